"""Crypto-shredding on PostgreSQL: a wave's and a census poll's keys are stored wrapped under a
key kept in KEY_VAULT_DIR, and closing them deletes it, so the copies PostgreSQL keeps (dead
tuples, WAL, backups) open nothing afterwards, even with SECRET_KEY."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from services.polls.closing import close_poll
from services.privacy import Keyring, UndecryptableError
from services.survey.waves import close_wave, open_wave, submit_response
from storage import ChatRecord, Storage, open_storage
from storage.postgres.key_vault import KeyVault
from tests.servers.postgres import PostgresCluster

DAY = dt.date(2026, 11, 23)
NOW = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
KEYRING = Keyring(b"k" * 32)
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
    storage = await open_storage(url, pending_key=b"p" * 32, key_vault=vault)
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
