"""Survey waves, responses and new-wave subscriptions."""

from __future__ import annotations

import datetime as dt
import sqlite3

import aiosqlite

from storage.interface import Subscriber, SurveySnapshot, Wave, WaveAlreadyOpenError

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


class SqliteSurveyReader:
    """The reads; `SqliteSurvey` adds the writes, for use inside a transaction only."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def current_wave(self) -> Wave | None:
        # Read on every survey press: one step on the connection's thread, as the FSM's load.
        rows = list(
            await self._conn.execute_fetchall(
                f"SELECT {_WAVE_COLUMNS} FROM survey_waves WHERE closed_on IS NULL"
            )
        )
        return _wave(rows[0]) if rows else None

    async def waves(self) -> list[tuple[Wave, int]]:
        async with self._conn.execute(
            f"SELECT {_WAVE_COLUMNS}, (SELECT count(*) FROM survey_responses r "
            "  WHERE r.wave_id = w.id) FROM survey_waves w ORDER BY id DESC"
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
        async with self._conn.execute(
            "SELECT count(*) FROM survey_responses WHERE wave_id = ? AND changed = 1",
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
        async with self._conn.execute(
            "SELECT answers, count(*) FROM survey_responses WHERE wave_id = ? GROUP BY answers",
            (wave_id,),
        ) as cur:
            rows = await cur.fetchall()
        return [(str(row[0]), int(row[1])) for row in rows]


class SqliteSurvey(SqliteSurveyReader):
    async def open_wave(self, label: str, key_sealed: bytes, opened_on: dt.date) -> Wave:
        try:
            cursor = await self._conn.execute(
                "INSERT INTO survey_waves (label, opened_on, key_sealed) VALUES (?, ?, ?)",
                (label, opened_on.isoformat(), key_sealed),
            )
        except sqlite3.IntegrityError as exc:
            raise WaveAlreadyOpenError(label) from exc
        return Wave(int(cursor.lastrowid or 0), label, opened_on, None, key_sealed)

    async def close_wave(self, wave_id: int, closed_on: dt.date) -> None:
        await self._conn.execute(
            "UPDATE survey_waves SET closed_on = ?, key_sealed = NULL "
            "WHERE id = ? AND closed_on IS NULL",
            (closed_on.isoformat(), wave_id),
        )
        await self._clear_changed(wave_id)

    async def save_response(
        self, wave_id: int, respondent: bytes, week: str, answers: str
    ) -> None:
        # Every right-hand side reads the old row: `changed` compares old and new answers.
        await self._conn.execute(
            "INSERT INTO survey_responses (wave_id, respondent, week, answers, changed) "
            "VALUES (?, ?, ?, ?, 1) ON CONFLICT (wave_id, respondent) "
            "DO UPDATE SET week = excluded.week, answers = excluded.answers, "
            "changed = max(changed, answers != excluded.answers)",
            (wave_id, respondent, week, answers),
        )

    async def delete_response(self, wave_id: int, respondent: bytes) -> bool:
        cursor = await self._conn.execute(
            "DELETE FROM survey_responses WHERE wave_id = ? AND respondent = ?",
            (wave_id, respondent),
        )
        return cursor.rowcount > 0

    async def publish_snapshot(self, wave_id: int, figures: str) -> SurveySnapshot:
        async with self._conn.execute(
            "INSERT INTO survey_snapshots (wave_id, version, figures) VALUES (?, 1, ?) "
            "ON CONFLICT (wave_id) DO UPDATE SET version = version + 1, "
            "figures = excluded.figures RETURNING version",
            (wave_id, figures),
        ) as cur:
            row = await cur.fetchone()
        await self._clear_changed(wave_id)
        return SurveySnapshot(wave_id, int(row[0]) if row else 1, figures)

    async def _clear_changed(self, wave_id: int) -> None:
        await self._conn.execute(
            "UPDATE survey_responses SET changed = 0 WHERE wave_id = ? AND changed = 1",
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

    async def mark_notified(self, subscriber: bytes, wave_id: int) -> None:
        await self._conn.execute(
            "UPDATE wave_subscribers SET notified_wave = max(notified_wave, ?) "
            "WHERE subscriber = ?",
            (wave_id, subscriber),
        )
