"""`vyraj migrate-db`: an SQLite database copied into an empty PostgreSQL one reads the same,
its ids continue, and a target that holds anything is refused."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from pathlib import Path

import asyncpg

from services.privacy import Keyring
from services.survey.waves import open_wave, submit_response
from storage import ChatRecord, Storage, open_storage
from storage.postgres.key_vault import MAGIC
from tests.servers.postgres import PostgresCluster

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2026, 11, 23)
KEYRING = Keyring(b"k" * 32)
PENDING_KEY = b"p" * 32


async def fill(storage: Storage) -> None:
    """Some of everything: a wave with responses, a poll with votes, notes, a subscriber."""
    wave = await open_wave(storage, KEYRING, "autumn", DAY)
    for user, role in ((1, "qa"), (2, "qa"), (3, "developer")):
        answers = {"status": "staying", "role": role, "seniority": "junior"}
        await submit_response(storage, KEYRING, wave, user, answers, DAY, 10)
    async with storage.transaction() as tx:
        await tx.meta.set("key_check", "check")
        await tx.polls.save_chat(ChatRecord(b"chat", b"sealed", "group", active=True))
        poll = await tx.polls.create_poll(
            b"chat", "census", "Q?", ("a", "b"), False, DAY, None, b"key", "en"
        )
        await tx.polls.attach_message(poll.id, 7, None)
        await tx.polls.vote(poll.id, b"voter", (1,))
        await tx.polls.audit("2026-11-23T12", "open", b"chat", "admin", poll.id)
        for note in ("first", "second"):
            await tx.knowledge_stats.add_note("visa", note, "2026-11")
        await tx.subscriptions.subscribe(b"subscriber", b"sealed-chat", 0)
        await tx.fsm.save("fsm", b"state", wave.id)


async def everything(storage: Storage) -> list[object]:
    wave = await storage.survey.current_wave()
    assert wave is not None
    (poll,) = await storage.polls.open_polls()
    return [
        wave,
        await storage.survey.waves(),
        sorted(await storage.survey.response_groups(wave.id)),
        await storage.survey.changed_respondents(wave.id),
        await storage.meta.get("key_check"),
        poll,
        await storage.polls.get_vote(poll.id, b"voter"),
        await storage.polls.copies(poll.id),
        await storage.knowledge_stats.notes("visa", 10),
        await storage.subscriptions.pending(1, 10),
        await storage.fsm.load("fsm"),
    ]


async def migrate_db(source: str, target: str, vault: Path | None = None) -> tuple[int, str, str]:
    vault_env = {} if vault is None else {"KEY_VAULT_DIR": str(vault)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "migrate-db",
        source,
        target,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **vault_env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 90)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_a_copy_reads_the_same_and_continues_its_ids(
    postgres_cluster: PostgresCluster, tmp_path: Path
) -> None:
    source = f"sqlite:///{tmp_path / 'vyraj.sqlite3'}"
    sqlite = await open_storage(source)
    try:
        await fill(sqlite)
        expected = await everything(sqlite)
    finally:
        await sqlite.close()
    target = await postgres_cluster.fresh_database(template="template0")

    vault = tmp_path / "vault"
    code, stdout, stderr = await migrate_db(source, target)
    assert code == 1
    assert stderr.startswith("migrate-db refused: KEY_VAULT_DIR: required")
    code, stdout, stderr = await migrate_db(source, target, vault)
    assert (code, stderr) == (0, "")
    assert stdout.startswith("Copied ")
    # The open wave's and census poll's keys reach PostgreSQL only wrapped, one KEK each.
    conn = await asyncpg.connect(target)
    try:
        keys = [
            *await conn.fetch("SELECT key_sealed FROM survey_waves"),
            *await conn.fetch("SELECT voter_key_sealed FROM polls"),
        ]
    finally:
        await conn.close()
    assert [bytes(row[0]).startswith(MAGIC) for row in keys] == [True, True]
    assert len(list(vault.iterdir())) == 2

    postgres = await open_storage(target, pending_key=PENDING_KEY, key_vault=vault)
    try:
        assert await everything(postgres) == expected
        async with postgres.transaction() as tx:
            poll = await tx.polls.create_poll(
                b"chat", "native", "Next?", ("a", "b"), False, DAY, None, None, "en"
            )
            await tx.knowledge_stats.add_note("visa", "third", "2026-12")
        assert poll.id == expected[5].id + 1  # type: ignore[attr-defined]
        notes = await postgres.knowledge_stats.notes("visa", 10)
        assert [note.note for note in notes] == ["third", "second", "first"]
    finally:
        await postgres.close()

    code, stdout, stderr = await migrate_db(source, target, vault)
    assert code == 1
    assert stderr.startswith("migrate-db refused: the target database is not empty")
    assert stdout == ""
    assert len(list(vault.iterdir())) == 2  # a refused copy leaves no KEK behind


async def test_only_sqlite_into_postgres(tmp_path: Path) -> None:
    code, _, stderr = await migrate_db("postgresql://a@/b", f"sqlite:///{tmp_path / 'x'}")
    assert code == 1
    assert stderr.strip() == (
        "migrate-db refused: give an sqlite:/// SOURCE and a postgresql:// TARGET"
    )
