"""The bot on PostgreSQL end to end: the real aiogram Bot over HTTP against the local Bot API
server, its data in a database of the throw-away cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from bot.app import pending_responses_key
from bot.sandbox.runtime import Sandbox, open_sandbox
from services.clock import ManualClock
from storage import open_storage
from tests.servers.postgres import PostgresCluster


@pytest.fixture
async def postgres_sandbox(
    postgres_cluster: PostgresCluster, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[tuple[Sandbox, str]]:
    url = await postgres_cluster.fresh_database()
    async with open_sandbox(tmp_path / "unused.sqlite3", clock, database_url=url) as sandbox:
        yield sandbox, url


async def stored_answers(sandbox: Sandbox, url: str) -> list[tuple[str, int]]:
    """The open wave's answer sets as the bot reads them (pending ones included)."""
    storage = await open_storage(
        url,
        pending_key=pending_responses_key(sandbox.secret_key.encode()),
        key_vault=sandbox.settings().key_vault_dir,
    )
    try:
        wave = await storage.survey.current_wave()
        assert wave is not None
        return await storage.survey.response_groups(wave.id)
    finally:
        await storage.close()


async def raw_rows(url: str, table: str) -> list[bytes]:
    conn = await asyncpg.connect(url)
    try:
        return [str(tuple(row)).encode() for row in await conn.fetch(f"SELECT * FROM {table}")]
    finally:
        await conn.close()


async def test_the_bot_on_postgres_answers_and_records_a_survey(
    postgres_sandbox: tuple[Sandbox, str], tmp_path: Path
) -> None:
    sandbox, url = postgres_sandbox
    admin = sandbox.user("Admin", language_code="en")
    await sandbox.start_bot(admin_ids=str(admin.user.id), min_cell_size=5)
    user = sandbox.user(language_code="en")
    await user.send("/start")
    assert "I am Vyraj" in user.last_text
    await admin.send("/wave open 2026 Q4")
    assert "Wave “2026 Q4” is open" in admin.last_text
    await user.send("/survey")
    await user.click("I agree")
    await user.click("Left after 24 Feb 2022")
    await user.click("Georgia")
    await user.click("2022")
    await user.click("Developer")
    await user.click("Skip (prefer not to say)")
    await user.click("Company-sponsored visa (e.g. PBH)")
    assert await stored_answers(sandbox, url) == []  # nothing stored before Submit
    await user.click("When it is safe")
    await user.click("Submit")
    assert "Thank you" in user.last_text
    ((answers, count),) = await stored_answers(sandbox, url)
    assert '"country":"GE"' in answers
    assert count == 1
    # Fewer than MIN_CELL_SIZE changes: the response waits sealed, dated by nothing readable.
    assert await raw_rows(url, "survey_responses") == []
    (pending,) = await raw_rows(url, "survey_pending")
    # Whole words: two letters alone turn up in random ciphertext about one run in 200.
    for plaintext in (b'"country"', b'"GE"', b"Georgia"):
        assert plaintext not in pending
    assert not (tmp_path / "unused.sqlite3").exists()  # nothing went to a SQLite file
