"""The bot on PostgreSQL end to end: the real aiogram Bot over HTTP against the local Bot API
server, its data in a database of the throw-away cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from bot.sandbox.runtime import Sandbox, open_sandbox
from services.clock import ManualClock
from tests.servers.postgres import PostgresCluster


@pytest.fixture
async def postgres_sandbox(
    postgres_cluster: PostgresCluster, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[tuple[Sandbox, str]]:
    url = await postgres_cluster.fresh_database()
    async with open_sandbox(tmp_path / "unused.sqlite3", clock, database_url=url) as sandbox:
        yield sandbox, url


async def stored_answers(url: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT s.answers FROM survey_responses r JOIN survey_answer_sets s "
            "ON s.wave_id = r.wave_id AND s.id = r.answer_set"
        )
    finally:
        await conn.close()
    return [str(row[0]) for row in rows]


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
    assert await stored_answers(url) == []  # nothing stored before Submit
    await user.click("When it is safe")
    await user.click("Submit")
    assert "Thank you" in user.last_text
    (answers,) = await stored_answers(url)
    assert '"country":"GE"' in answers
    assert not (tmp_path / "unused.sqlite3").exists()  # nothing went to a SQLite file
