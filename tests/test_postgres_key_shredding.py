"""Crypto-shredding on PostgreSQL: a wave's and a census poll's keys are stored wrapped under a
key kept in KEY_VAULT_DIR, and closing them deletes it, so the copies PostgreSQL keeps (dead
tuples, WAL, backups) open nothing afterwards, even with SECRET_KEY."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from cryptography.exceptions import InvalidTag

from bot.app import pending_responses_key
from services.polls.closing import close_poll
from services.privacy import Keyring, UndecryptableError
from services.survey.waves import close_wave, open_wave, respondent, submit_response
from storage import ChatRecord, Storage, open_storage
from storage.postgres.key_vault import KeyVault
from storage.postgres.pending import PendingKeys, PendingSealer
from tests.servers.postgres import PostgresCluster

DAY = dt.date(2026, 11, 23)
NOW = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
KEYRING_SECRET = b"k" * 32
KEYRING = Keyring(KEYRING_SECRET)
PENDING_KEY = b"p" * 32
ANSWERS = {"status": "staying", "role": "qa", "seniority": "junior"}


class Boom(Exception):
    pass


def kek_files(vault: Path) -> list[Path]:
    return sorted(vault.iterdir())


@pytest.fixture
async def database(
    postgres_cluster: PostgresCluster, tmp_path: Path
) -> AsyncIterator[tuple[Storage, str, Path]]:
    url = await postgres_cluster.fresh_database()
    vault = tmp_path / "vault"
    storage = await open_storage(url, pending_key=PENDING_KEY, key_vault=vault)
    try:
        yield storage, url, vault
    finally:
        await storage.close()


async def stored(url: str, query: str) -> bytes:
    """What a base backup or a WAL record taken now would hold."""
    conn = await asyncpg.connect(url)
    try:
        return bytes(await conn.fetchval(query))
    finally:
        await conn.close()


async def test_closing_a_wave_shreds_every_copy_of_its_key(
    database: tuple[Storage, str, Path],
) -> None:
    storage, url, vault = database
    wave = await open_wave(storage, KEYRING, "autumn", DAY)
    assert wave.key_sealed is not None
    await submit_response(storage, KEYRING, wave, 42, ANSWERS, DAY, 10)
    backup = await stored(url, "SELECT key_sealed FROM survey_waves")
    assert backup != wave.key_sealed
    with pytest.raises(UndecryptableError):
        KEYRING.wave_key_sealer.open(backup)  # SECRET_KEY alone opens nothing
    assert await KeyVault(vault).unwrap(backup) == wave.key_sealed  # another instance reads it
    assert (await storage.survey.current_wave()) == wave

    async def close_then_fail() -> None:
        async with storage.transaction() as tx:
            await tx.survey.close_wave(wave.id, DAY)
            raise Boom

    with pytest.raises(Boom):
        await close_then_fail()
    assert len(kek_files(vault)) == 1  # a rolled-back close keeps the open wave's key
    assert (await storage.survey.current_wave()) == wave

    assert await close_wave(storage, DAY) is not None
    assert kek_files(vault) == []
    assert await KeyVault(vault).unwrap(backup) is None


async def test_closing_a_census_poll_shreds_its_voter_key(
    database: tuple[Storage, str, Path],
) -> None:
    storage, url, vault = database
    voter_key = KEYRING.poll_key_sealer.seal(b"v" * 32)
    async with storage.transaction() as tx:
        await tx.polls.save_chat(ChatRecord(b"chat", b"sealed", "group", active=True))
        poll = await tx.polls.create_poll(
            b"chat", "census", "Q?", ("a", "b"), False, DAY, None, voter_key, "en"
        )
    assert poll.voter_key_sealed == voter_key
    assert (await storage.polls.get_poll(poll.id)) == poll
    backup = await stored(url, "SELECT voter_key_sealed FROM polls")
    assert backup != voter_key
    assert len(kek_files(vault)) == 1
    assert await close_poll(storage, poll.id, NOW, "admin") is not None
    assert kek_files(vault) == []
    assert await KeyVault(vault).unwrap(backup) is None


async def pending_rows(url: str) -> list[tuple[int, bytes, bytes]]:
    """Every survey_pending row as a WAL record of its write holds it."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT wave_id, respondent_tag, sealed FROM survey_pending")
    finally:
        await conn.close()
    return [(int(row[0]), bytes(row[1]), bytes(row[2])) for row in rows]


def opens(sealer: PendingSealer, rows: list[tuple[int, bytes, bytes]]) -> list[str]:
    """The answers of the rows `sealer` opens."""
    opened = []
    for wave_id, tag, sealed in rows:
        with contextlib.suppress(InvalidTag):
            opened.append(sealer.open(wave_id, tag, sealed).answers)
    return opened


async def test_pending_responses_written_before_the_close_open_with_nothing_after_it(
    database: tuple[Storage, str, Path],
) -> None:
    storage, url, vault = database
    wave = await open_wave(storage, KEYRING, "autumn", DAY)
    backup = await stored(url, "SELECT key_sealed FROM survey_waves")
    versions: set[tuple[int, bytes, bytes]] = set()
    for user, role in [(42, "qa"), (43, "developer"), (42, "designer")]:
        await submit_response(storage, KEYRING, wave, user, {**ANSWERS, "role": role}, DAY, 10)
        versions.update(await pending_rows(url))  # every version, as the WAL keeps them
    written = sorted(versions)
    assert len(written) == 3

    # While the wave is open, SECRET_KEY with the vault and the database opens them all.
    wave_key = await KeyVault(vault).unwrap(backup)
    assert wave_key is not None
    assert len(opens(PendingKeys(PENDING_KEY).for_wave(wave_key), written)) == 3

    assert await close_wave(storage, DAY) is not None
    assert await KeyVault(vault).unwrap(backup) is None
    # After it, nothing derivable from SECRET_KEY and what the database kept opens any.
    candidates = [
        PendingSealer(PENDING_KEY),  # a key from SECRET_KEY alone
        PendingSealer(pending_responses_key(KEYRING_SECRET)),
        PendingKeys(PENDING_KEY).for_wave(backup),  # the wrapped key a backup holds
        PendingKeys(PENDING_KEY).for_wave(b""),
    ]
    assert [opens(sealer, written) for sealer in candidates] == [[]] * len(candidates)


def holds(root: object, needle: bytes) -> bool:
    """Whether `needle` is anywhere in the storage's own objects reachable from `root`."""
    seen: set[int] = set()
    todo = [root]
    while todo:
        value = todo.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, bytes | bytearray):
            if value == needle:
                return True
        elif isinstance(value, dict):
            todo += [*value.keys(), *value.values()]
        elif isinstance(value, list | tuple | set | frozenset):
            todo += list(value)
        elif type(value).__module__.startswith("storage.") and hasattr(value, "__dict__"):
            todo += list(vars(value).values())
    return False


async def test_another_instance_keeps_no_key_of_a_wave_closed_elsewhere(
    database: tuple[Storage, str, Path],
) -> None:
    storage, url, vault = database
    other = await open_storage(url, pending_key=PENDING_KEY, key_vault=vault)
    try:
        wave = await open_wave(storage, KEYRING, "autumn", DAY)
        await submit_response(storage, KEYRING, wave, 42, ANSWERS, DAY, 10)
        assert await storage.survey.current_wave() == wave
        assert await storage.survey.has_response(wave.id, respondent(KEYRING, wave, 42))
        [kek_file] = kek_files(vault)
        kek = kek_file.read_bytes()

        assert await close_wave(other, DAY) is not None
        assert kek_files(vault) == []
        assert await storage.survey.current_wave() is None
        assert not holds(storage, kek)
        assert not holds(other, kek)
    finally:
        await other.close()
