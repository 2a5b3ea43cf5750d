"""The digests posted, claimed per period before anything is sent."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

from storage.interface import DigestRecord
from storage.postgres.connection import Executor, affected


def _digest(row: Mapping[str, object]) -> DigestRecord:
    return DigestRecord(
        period_key=str(row["period_key"]),
        kind=str(row["kind"]),
        status=str(row["status"]),
        claimed_at=dt.datetime.fromisoformat(str(row["claimed_at"])),
        message_ids=tuple(int(i) for i in json.loads(str(row["message_ids"]))),
        snapshot=str(row["snapshot"]),
    )


_DIGEST_COLUMNS = "period_key, kind, status, claimed_at, message_ids, snapshot"


class PostgresDigestsReader:
    """The reads; `PostgresDigests` adds the writes, for use inside a transaction only."""

    def __init__(self, db: Executor) -> None:
        self._db = db

    async def get(self, period_key: str) -> DigestRecord | None:
        row = await self._db.fetchrow(
            f"SELECT {_DIGEST_COLUMNS} FROM digests WHERE period_key = $1", period_key
        )
        return None if row is None else _digest(row)

    async def last_posted(self) -> DigestRecord | None:
        row = await self._db.fetchrow(
            f"SELECT {_DIGEST_COLUMNS} FROM digests WHERE status = 'posted' "
            'ORDER BY claimed_at COLLATE "C" DESC LIMIT 1'
        )
        return None if row is None else _digest(row)

    async def unfinished(self, claimed_since: dt.datetime) -> list[DigestRecord]:
        rows = await self._db.fetch(
            f"SELECT {_DIGEST_COLUMNS} FROM digests WHERE status IN ('posting', 'failed')"
        )
        # Compared as instants: the stored texts carry the offset of their day (DST).
        records = [_digest(row) for row in rows]
        return sorted(
            (record for record in records if record.claimed_at >= claimed_since),
            key=lambda record: record.claimed_at,
        )


class PostgresDigests(PostgresDigestsReader):
    async def claim(
        self, period_key: str, kind: str, claimed_at: dt.datetime, snapshot: str
    ) -> bool:
        status = await self._db.execute(
            "INSERT INTO digests (period_key, kind, status, claimed_at, snapshot) "
            "VALUES ($1, $2, 'posting', $3, $4) ON CONFLICT (period_key) DO NOTHING",
            period_key,
            kind,
            claimed_at.isoformat(),
            snapshot,
        )
        return affected(status) > 0

    async def record_parts(self, period_key: str, message_ids: tuple[int, ...]) -> None:
        await self._db.execute(
            "UPDATE digests SET message_ids = $1 WHERE period_key = $2",
            json.dumps(list(message_ids)),
            period_key,
        )

    async def mark_posted(self, period_key: str, message_ids: tuple[int, ...]) -> None:
        await self._db.execute(
            "UPDATE digests SET status = 'posted', message_ids = $1 WHERE period_key = $2",
            json.dumps(list(message_ids)),
            period_key,
        )

    async def mark_failed(self, period_key: str) -> None:
        await self._db.execute(
            "UPDATE digests SET status = 'failed' WHERE period_key = $1", period_key
        )
