"""Survey answers are stored once per distinct set with its count: the migration converts old
rows without losing any, counts follow every save, change and deletion, and a set nobody gives
any more leaves no row behind."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections import Counter
from pathlib import Path

import aiosqlite

from services.survey.questions import Answers
from services.survey.waves import encode_answers
from storage import open_storage
from storage.migrations import migrate
from storage.sqlite import SqliteStorage, connect
from storage.sqlite.survey import SqliteSurvey

ANSWER_SETS_MIGRATION = 13
DAY = dt.date(2026, 11, 23)


def staying(role: str) -> str:
    answers: Answers = {"status": "staying", "role": role, "seniority": "junior"}
    return encode_answers(answers)


def stored(path: Path) -> list[tuple[int, bytes, str, str, int]]:
    """Every response with its answers, as (wave, respondent, week, answers, changed)."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        return sorted(
            db.execute(
                "SELECT r.wave_id, r.respondent, r.week, s.answers, r.changed "
                "FROM survey_responses r "
                "JOIN survey_answer_sets s ON s.wave_id = r.wave_id AND s.id = r.answer_set"
            ).fetchall()
        )


def counts(path: Path) -> dict[tuple[int, str], int]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT wave_id, answers, respondents FROM survey_answer_sets")
        return {(wave, answers): count for wave, answers, count in rows}


async def test_the_migration_keeps_every_response_and_counts_each_set(tmp_path: Path) -> None:
    path = tmp_path / "vyraj.db"
    old = [
        (1, bytes([1]) * 32, "2026-W02", staying("qa"), 0),
        (1, bytes([2]) * 32, "2026-W03", staying("qa"), 1),
        (1, bytes([3]) * 32, "2026-W03", staying("devops"), 1),
        (2, bytes([1]) * 32, "2026-W40", staying("qa"), 1),
    ]
    async with aiosqlite.connect(path) as db:
        await migrate(db, target=ANSWER_SETS_MIGRATION - 1)
        await db.execute(
            "INSERT INTO survey_waves (label, opened_on, closed_on) "
            "VALUES ('old', '2026-01-05', '2026-02-01')"
        )
        await db.execute(
            "INSERT INTO survey_waves (label, opened_on, key_sealed) "
            "VALUES ('new', '2026-10-01', x'00')"
        )
        await db.executemany(
            "INSERT INTO survey_responses (wave_id, respondent, week, answers, changed) "
            "VALUES (?, ?, ?, ?, ?)",
            old,
        )
        await db.commit()
        assert await migrate(db) >= ANSWER_SETS_MIGRATION

    assert stored(path) == sorted(old)
    assert counts(path) == {
        (1, staying("qa")): 2,
        (1, staying("devops")): 1,
        (2, staying("qa")): 1,
    }
    with contextlib.closing(sqlite3.connect(path)) as db:
        indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_schema")}
        assert "survey_responses_answers" not in indexes  # the answers are not stored twice
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []


async def test_counts_follow_saves_changes_and_deletions(tmp_path: Path) -> None:
    path = tmp_path / "vyraj.db"
    storage: SqliteStorage = await open_storage(f"sqlite:///{path}")
    try:
        async with storage.transaction() as tx:
            wave = await tx.survey.open_wave("w", b"sealed", DAY)
            for person, role in ((1, "qa"), (2, "qa"), (3, "devops")):
                await tx.survey.save_response(wave.id, bytes([person]), "2026-W48", staying(role))
            await tx.survey.save_response(wave.id, bytes([3]), "2026-W48", staying("qa"))
            await tx.survey.save_response(wave.id, bytes([1]), "2026-W49", staying("qa"))
        assert counts(path) == {(wave.id, staying("qa")): 3}  # the lone devops set is gone
        assert Counter(dict(await storage.survey.response_groups(wave.id))) == Counter(
            {staying("qa"): 3}
        )
        assert [(w.id, n) for w, n in await storage.survey.waves()] == [(wave.id, 3)]

        async with storage.transaction() as tx:
            assert await tx.survey.delete_response(wave.id, bytes([2]))
            assert not await tx.survey.delete_response(wave.id, bytes([2]))
            await tx.survey.save_response(wave.id, bytes([2]), "2026-W49", staying("pm"))
        assert counts(path) == {(wave.id, staying("qa")): 2, (wave.id, staying("pm")): 1}

        async with storage.transaction() as tx:
            assert await tx.survey.delete_response(wave.id, bytes([2]))
        assert await storage.checkpoint_truncate()
        assert counts(path) == {(wave.id, staying("qa")): 2}
        assert b'"pm"' not in path.read_bytes()  # secure_delete: no remnant of the lone set
    finally:
        await storage.close()


async def test_a_set_whose_answers_are_unchanged_is_not_marked_changed(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path / 'vyraj.db'}")
    try:
        async with storage.transaction() as tx:
            wave = await tx.survey.open_wave("w", b"sealed", DAY)
            await tx.survey.save_response(wave.id, b"p", "2026-W48", staying("qa"))
            await tx.survey.clear_changed(wave.id)
            await tx.survey.save_response(wave.id, b"p", "2026-W49", staying("qa"))
        assert await storage.survey.changed_respondents(wave.id) == 0
        async with storage.transaction() as tx:
            await tx.survey.save_response(wave.id, b"p", "2026-W49", staying("pm"))
        assert await storage.survey.changed_respondents(wave.id) == 1
    finally:
        await storage.close()


async def test_counting_the_changed_reads_only_the_marked_rows(tmp_path: Path) -> None:
    conn = await connect(tmp_path / "vyraj.db")
    try:
        await migrate(conn)
        survey = SqliteSurvey(conn)
        statements: list[str] = []
        await conn.set_trace_callback(statements.append)
        await survey.changed_respondents(1)
        await survey.clear_changed(1)
        await conn.set_trace_callback(None)
        await conn.rollback()
        queries = [statement for statement in statements if "survey_responses" in statement]
        assert len(queries) == 2
        for statement in queries:
            async with conn.execute(f"EXPLAIN QUERY PLAN {statement}") as cur:
                (plan,) = await cur.fetchall()
            # Not the primary key: that would read every response of the wave.
            assert "USING INDEX survey_responses_changed" in plan[3]
    finally:
        await conn.close()
