"""The digests posted, claimed per period before anything is sent."""

from __future__ import annotations

import datetime as dt
import json

import aiosqlite

from storage.interface import DigestRecord


def _digest(row: aiosqlite.Row) -> DigestRecord:
    return DigestRecord(
        period_key=str(row[0]),
        kind=str(row[1]),
        status=str(row[2]),
        claimed_at=dt.datetime.fromisoformat(str(row[3])),
        message_ids=tuple(int(i) for i in json.loads(row[4])),
        snapshot=str(row[5]),
    )


_DIGEST_COLUMNS = "period_key, kind, status, claimed_at, message_ids, snapshot"


class SqliteDigestsReader:
    """The reads; `SqliteDigests` adds the writes, for use inside a transaction only."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def get(self, period_key: str) -> DigestRecord | None:
        async with self._conn.execute(
            f"SELECT {_DIGEST_COLUMNS} FROM digests WHERE period_key = ?", (period_key,)
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else _digest(row)

    async def last_posted(self) -> DigestRecord | None:
        async with self._conn.execute(
            f"SELECT {_DIGEST_COLUMNS} FROM digests WHERE status = 'posted' "
            "ORDER BY claimed_at DESC LIMIT 1"
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else _digest(row)

    async def unfinished(self, claimed_since: dt.datetime) -> list[DigestRecord]:
        async with self._conn.execute(
            f"SELECT {_DIGEST_COLUMNS} FROM digests WHERE status IN ('posting', 'failed')"
        ) as cur:
            rows = await cur.fetchall()
        # Compared as instants: the stored texts carry the offset of their day (DST).
        records = [_digest(row) for row in rows]
        return sorted(
            (record for record in records if record.claimed_at >= claimed_since),
            key=lambda record: record.claimed_at,
        )


class SqliteDigests(SqliteDigestsReader):
    async def claim(
        self, period_key: str, kind: str, claimed_at: dt.datetime, snapshot: str
    ) -> bool:
        cursor = await self._conn.execute(
            "INSERT INTO digests (period_key, kind, status, claimed_at, snapshot) "
            "VALUES (?, ?, 'posting', ?, ?) ON CONFLICT (period_key) DO NOTHING",
            (period_key, kind, claimed_at.isoformat(), snapshot),
        )
        return cursor.rowcount > 0

    async def record_parts(self, period_key: str, message_ids: tuple[int, ...]) -> None:
        await self._conn.execute(
            "UPDATE digests SET message_ids = ? WHERE period_key = ?",
            (json.dumps(list(message_ids)), period_key),
        )

    async def mark_posted(self, period_key: str, message_ids: tuple[int, ...]) -> None:
        await self._conn.execute(
            "UPDATE digests SET status = 'posted', message_ids = ? WHERE period_key = ?",
            (json.dumps(list(message_ids)), period_key),
        )

    async def mark_failed(self, period_key: str) -> None:
        await self._conn.execute(
            "UPDATE digests SET status = 'failed' WHERE period_key = ?", (period_key,)
        )
