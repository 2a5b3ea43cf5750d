"""On PostgreSQL a row's heap position and xmin date it, so survey responses wait sealed and
reach the response tables in shuffled batches: what is stored does not tell who answered when."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from services.privacy import Keyring
from services.survey.waves import open_wave, respondent, submit_response
from storage import Storage, open_storage
from tests.servers.postgres import PostgresCluster

DAY = dt.date(2026, 11, 23)
KEYRING = Keyring(b"k" * 32)
K = 12  # one batch once twelve people answered


@pytest.fixture
async def database(
    postgres_cluster: PostgresCluster, tmp_path: Path
) -> AsyncIterator[tuple[Storage, str]]:
    url = await postgres_cluster.fresh_database()
    storage = await open_storage(url, pending_key=b"p" * 32, key_vault=tmp_path / "vault")
    try:
        yield storage, url
    finally:
        await storage.close()


async def test_responses_reach_the_tables_in_one_shuffled_batch(
    database: tuple[Storage, str],
) -> None:
    storage, url = database
    wave = await open_wave(storage, KEYRING, "autumn", DAY)
    users = list(range(1001, 1001 + K))
    roles = ["qa", "developer", "designer"]
    conn = await asyncpg.connect(url)
    try:
        for index, user in enumerate(users):
            answers = {"status": "staying", "role": roles[index % 3], "seniority": "junior"}
            await submit_response(storage, KEYRING, wave, user, answers, DAY, K)
            if user != users[-1]:
                # Waiting: the live counts see it, the tables hold nothing readable of it.
                assert await storage.survey.has_response(wave.id, respondent(KEYRING, wave, user))
                assert await conn.fetchval("SELECT count(*) FROM survey_responses") == 0
                assert await conn.fetchval("SELECT count(*) FROM survey_answer_sets") == 0
                for row in await conn.fetch("SELECT * FROM survey_pending"):
                    raw = bytes(row["respondent_tag"]) + bytes(row["sealed"])
                    assert respondent(KEYRING, wave, user) not in raw
                    assert b"developer" not in raw
        assert await conn.fetchval("SELECT count(*) FROM survey_pending") == 0
        rows = await conn.fetch(
            "SELECT respondent, xmin::text AS xmin FROM survey_responses ORDER BY ctid"
        )
        sets = await conn.fetch("SELECT xmin::text AS xmin FROM survey_answer_sets")
    finally:
        await conn.close()
    submitted = [respondent(KEYRING, wave, user) for user in users]
    stored = [bytes(row["respondent"]) for row in rows]
    assert sorted(stored) == sorted(submitted)
    # One transaction wrote them all; 1 in 12! that a fair shuffle keeps the submit order.
    assert len({row["xmin"] for row in rows} | {row["xmin"] for row in sets}) == 1
    assert stored != submitted
    assert sum(count for _, count in await storage.survey.response_groups(wave.id)) == K
    snapshot = await storage.survey.snapshot(wave.id)
    assert snapshot is not None
    assert f'"respondents":{K}' in snapshot.figures
