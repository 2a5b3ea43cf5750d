"""Survey waves, responses and new-wave subscriptions."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3

import aiosqlite

from storage.interface import (
    AnswerCounts,
    Subscriber,
    SurveySnapshot,
    Wave,
    WaveAlreadyOpenError,
)

_WAVE_COLUMNS = "id, label, opened_on, closed_on, key_sealed"


def _wave(row: aiosqlite.Row | tuple[object, ...]) -> Wave:
    closed = row[3]
    return Wave(
        id=int(str(row[0])),
        label=str(row[1]),
        opened_on=dt.date.fromisoformat(str(row[2])),
        closed_on=None if closed is None else dt.date.fromisoformat(str(closed)),
        key_sealed=None if row[4] is None else bytes(row[4]),  # type: ignore[arg-type]
    )


class CurrentWaveCache:
    """The open wave, read on every survey press, kept between its changes: the write
    connection is this process's alone, so the wave is dropped when a transaction that opened
    or closed one ends, and a read that overlapped such a change is not kept."""

    def __init__(self) -> None:
        self._kept = False
        self._wave: Wave | None = None
        self.generation = 0

    def get(self) -> tuple[bool, Wave | None]:
        return self._kept, self._wave

    def keep(self, wave: Wave | None, read_in_generation: int) -> None:
        if read_in_generation == self.generation:
            self._kept, self._wave = True, wave

    def drop(self) -> None:
        self.generation += 1
        self._kept, self._wave = False, None


class SqliteSurveyReader:
    """The reads; `SqliteSurvey` adds the writes, for use inside a transaction only."""

    def __init__(self, conn: aiosqlite.Connection, cache: CurrentWaveCache | None = None) -> None:
        self._conn = conn
        self._cache = cache

    async def current_wave(self) -> Wave | None:
        cache = self._cache
        if cache is not None:
            kept, wave = cache.get()
            if kept:
                return wave
            generation = cache.generation
        # One step on the connection's thread, as the FSM's load.
        rows = list(
            await self._conn.execute_fetchall(
                f"SELECT {_WAVE_COLUMNS} FROM survey_waves WHERE closed_on IS NULL"
            )
        )
        wave = _wave(rows[0]) if rows else None
        if cache is not None:
            cache.keep(wave, generation)
        return wave

    async def waves(self) -> list[tuple[Wave, int]]:
        async with self._conn.execute(
            f"SELECT {_WAVE_COLUMNS}, (SELECT coalesce(sum(s.respondents), 0) "
            "  FROM survey_answer_sets s WHERE s.wave_id = w.id) "
            "FROM survey_waves w ORDER BY id DESC"
        ) as cur:
            rows = await cur.fetchall()
        return [(_wave(row), int(row[5])) for row in rows]

    async def recent_waves(self, limit: int) -> list[Wave]:
        async with self._conn.execute(
            f"SELECT {_WAVE_COLUMNS} FROM survey_waves ORDER BY id DESC LIMIT ?", (limit,)
        ) as cur:
            rows = await cur.fetchall()
        return [_wave(row) for row in rows]

    async def has_response(self, wave_id: int, respondent: bytes) -> bool:
        async with self._conn.execute(
            "SELECT 1 FROM survey_responses WHERE wave_id = ? AND respondent = ?",
            (wave_id, respondent),
        ) as cur:
            return await cur.fetchone() is not None

    async def changed_respondents(self, wave_id: int) -> int:
        # One row per respondent and wave, so counting marked rows counts distinct people.
        # The partial index holds only the marked rows; left to itself, the planner reads the
        # whole wave through the primary key (a million rows at every submission).
        async with self._conn.execute(
            "SELECT count(*) FROM survey_responses INDEXED BY survey_responses_changed "
            "WHERE wave_id = ? AND changed = 1",
            (wave_id,),
        ) as cur:
            row = await cur.fetchone()
        return 0 if row is None else int(row[0])

    async def snapshot(self, wave_id: int) -> SurveySnapshot | None:
        async with self._conn.execute(
            "SELECT version, figures FROM survey_snapshots WHERE wave_id = ?", (wave_id,)
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else SurveySnapshot(wave_id, int(row[0]), str(row[1]))

    async def response_groups(self, wave_id: int) -> list[tuple[str, int]]:
        # One row per distinct answer set: the cost does not grow with the respondents.
        async with self._conn.execute(
            "SELECT answers, respondents FROM survey_answer_sets WHERE wave_id = ?",
            (wave_id,),
        ) as cur:
            rows = await cur.fetchall()
        return [(str(row[0]), int(row[1])) for row in rows]

    async def answer_counts(self, wave_id: int) -> AnswerCounts:
        # One statement reads one state: the revision row first, then the sets.
        async with self._conn.execute(
            "SELECT NULL, revision FROM survey_waves WHERE id = ? "
            "UNION ALL SELECT answers, respondents FROM survey_answer_sets WHERE wave_id = ?",
            (wave_id, wave_id),
        ) as cur:
            rows = await cur.fetchall()
        revision = next((int(row[1]) for row in rows if row[0] is None), 0)
        groups = [(str(row[0]), int(row[1])) for row in rows if row[0] is not None]
        return AnswerCounts(wave_id, revision, groups)


class SqliteSurvey(SqliteSurveyReader):
    def __init__(self, conn: aiosqlite.Connection) -> None:
        super().__init__(conn)
        # Whether this transaction opened or closed a wave: the cache drops it once it ends.
        self.waves_changed = False

    async def open_wave(self, label: str, key_sealed: bytes, opened_on: dt.date) -> Wave:
        self.waves_changed = True
        try:
            cursor = await self._conn.execute(
                "INSERT INTO survey_waves (label, opened_on, key_sealed) VALUES (?, ?, ?)",
                (label, opened_on.isoformat(), key_sealed),
            )
        except sqlite3.IntegrityError as exc:
            raise WaveAlreadyOpenError(label) from exc
        return Wave(int(cursor.lastrowid or 0), label, opened_on, None, key_sealed)

    async def close_wave(self, wave_id: int, closed_on: dt.date) -> None:
        self.waves_changed = True
        await self._conn.execute(
            "UPDATE survey_waves SET closed_on = ?, key_sealed = NULL "
            "WHERE id = ? AND closed_on IS NULL",
            (closed_on.isoformat(), wave_id),
        )
        await self.clear_changed(wave_id)

    async def save_response(
        self, wave_id: int, respondent: bytes, week: str, answers: str
    ) -> None:
        before = await self._answer_set_of(wave_id, respondent)
        answer_set = await self._find_answer_set(wave_id, answers)
        if before is not None and before == answer_set:
            # The same answers again: nothing to count, and `changed` stays as it was.
            await self._conn.execute(
                "UPDATE survey_responses SET week = ? WHERE wave_id = ? AND respondent = ?",
                (week, wave_id, respondent),
            )
            return
        if answer_set is None:
            answer_set = await self._new_answer_set(wave_id, answers)
        else:
            await self._conn.execute(
                "UPDATE survey_answer_sets SET respondents = respondents + 1 "
                "WHERE wave_id = ? AND id = ?",
                (wave_id, answer_set),
            )
        await self._conn.execute(
            "INSERT INTO survey_responses (wave_id, respondent, week, answer_set, changed) "
            "VALUES (?, ?, ?, ?, 1) ON CONFLICT (wave_id, respondent) "
            "DO UPDATE SET week = excluded.week, answer_set = excluded.answer_set, changed = 1",
            (wave_id, respondent, week, answer_set),
        )
        if before is not None:
            await self._uncount(wave_id, before)
        await self._next_revision(wave_id)

    async def delete_response(self, wave_id: int, respondent: bytes) -> bool:
        before = await self._answer_set_of(wave_id, respondent)
        if before is None:
            return False
        await self._conn.execute(
            "DELETE FROM survey_responses WHERE wave_id = ? AND respondent = ?",
            (wave_id, respondent),
        )
        await self._uncount(wave_id, before)
        await self._next_revision(wave_id)
        return True

    async def _next_revision(self, wave_id: int) -> None:
        await self._conn.execute(
            "UPDATE survey_waves SET revision = revision + 1 WHERE id = ?", (wave_id,)
        )

    async def _answer_set_of(self, wave_id: int, respondent: bytes) -> int | None:
        async with self._conn.execute(
            "SELECT answer_set FROM survey_responses WHERE wave_id = ? AND respondent = ?",
            (wave_id, respondent),
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else int(row[0])

    async def _find_answer_set(self, wave_id: int, answers: str) -> int | None:
        async with self._conn.execute(
            "SELECT id FROM survey_answer_sets WHERE wave_id = ? AND answers = ?",
            (wave_id, answers),
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else int(row[0])

    async def _new_answer_set(self, wave_id: int, answers: str) -> int:
        # Random, so that the ids' order says nothing of when each set first appeared.
        answer_set = int.from_bytes(os.urandom(8), "big", signed=True)
        await self._conn.execute(
            "INSERT INTO survey_answer_sets (wave_id, id, answers, respondents) "
            "VALUES (?, ?, ?, 1)",
            (wave_id, answer_set, answers),
        )
        return answer_set

    async def _uncount(self, wave_id: int, answer_set: int) -> None:
        """One person fewer gives this set; a set nobody gives any more is deleted."""
        cursor = await self._conn.execute(
            "UPDATE survey_answer_sets SET respondents = respondents - 1 "
            "WHERE wave_id = ? AND id = ? AND respondents > 1",
            (wave_id, answer_set),
        )
        if cursor.rowcount == 0:
            await self._conn.execute(
                "DELETE FROM survey_answer_sets WHERE wave_id = ? AND id = ?",
                (wave_id, answer_set),
            )

    async def publish_snapshot(
        self, wave_id: int, figures: str, revision: int
    ) -> SurveySnapshot | None:
        async with self._conn.execute(
            "INSERT INTO survey_snapshots (wave_id, version, figures, revision) "
            "VALUES (?, 1, ?, ?) ON CONFLICT (wave_id) DO UPDATE SET version = version + 1, "
            "figures = excluded.figures, revision = excluded.revision "
            "WHERE revision <= excluded.revision RETURNING version",
            (wave_id, figures, revision),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None  # computed before the stored figures: never step back
        return SurveySnapshot(wave_id, int(row[0]), figures)

    async def clear_changed(self, wave_id: int) -> None:
        await self._conn.execute(
            "UPDATE survey_responses INDEXED BY survey_responses_changed SET changed = 0 "
            "WHERE wave_id = ? AND changed = 1",
            (wave_id,),
        )


class SqliteSubscriptionsReader:
    """The reads; `SqliteSubscriptions` adds the writes, for use inside a transaction only."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def is_subscribed(self, subscriber: bytes) -> bool:
        async with self._conn.execute(
            "SELECT 1 FROM wave_subscribers WHERE subscriber = ?", (subscriber,)
        ) as cur:
            return await cur.fetchone() is not None

    async def pending(self, wave_id: int, limit: int) -> list[Subscriber]:
        async with self._conn.execute(
            "SELECT subscriber, chat_sealed FROM wave_subscribers WHERE notified_wave < ? "
            "ORDER BY subscriber LIMIT ?",
            (wave_id, limit),
        ) as cur:
            rows = await cur.fetchall()
        return [Subscriber(bytes(row[0]), bytes(row[1])) for row in rows]

    async def count(self) -> int:
        async with self._conn.execute("SELECT count(*) FROM wave_subscribers") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0


class SqliteSubscriptions(SqliteSubscriptionsReader):
    async def subscribe(self, subscriber: bytes, chat_sealed: bytes, notified_wave: int) -> None:
        await self._conn.execute(
            "INSERT INTO wave_subscribers (subscriber, chat_sealed, notified_wave) "
            "VALUES (?, ?, ?) ON CONFLICT (subscriber) DO UPDATE SET "
            "chat_sealed = excluded.chat_sealed",
            (subscriber, chat_sealed, notified_wave),
        )

    async def unsubscribe(self, subscriber: bytes) -> bool:
        cursor = await self._conn.execute(
            "DELETE FROM wave_subscribers WHERE subscriber = ?", (subscriber,)
        )
        return cursor.rowcount > 0

    async def mark_notified(self, subscriber: bytes, wave_id: int) -> bool:
        cursor = await self._conn.execute(
            "UPDATE wave_subscribers SET notified_wave = ? "
            "WHERE subscriber = ? AND notified_wave < ?",
            (wave_id, subscriber, wave_id),
        )
        return cursor.rowcount > 0

    async def unmark_notified(self, subscriber: bytes, wave_id: int) -> None:
        await self._conn.execute(
            "UPDATE wave_subscribers SET notified_wave = ? WHERE subscriber = ? "
            "AND notified_wave = ?",
            (wave_id - 1, subscriber, wave_id),
        )
