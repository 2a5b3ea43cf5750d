"""Claims on shared work with an expiry: one holder at a time, taken over once lapsed."""

from __future__ import annotations

import datetime as dt

from storage.postgres.connection import Connection


def _stamp(instant: dt.datetime) -> str:
    """A UTC time that orders as text (the same format as on SQLite)."""
    return instant.astimezone(dt.UTC).isoformat(timespec="microseconds")


class PostgresClaims:
    """For use inside a transaction only. Unlike SQLite, claims survive a start: another
    instance may be alive and holding them."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def claim(self, name: str, holder: str, now: dt.datetime, until: dt.datetime) -> bool:
        row = await self._conn.fetchval(
            "INSERT INTO claims (name, holder, until) VALUES ($1, $2, $3) "
            "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until "
            "WHERE claims.holder = excluded.holder OR claims.until <= $4 RETURNING 1",
            name,
            holder,
            _stamp(until),
            _stamp(now),
        )
        return row is not None

    async def release(self, name: str, holder: str) -> None:
        await self._conn.execute(
            "DELETE FROM claims WHERE name = $1 AND holder = $2", name, holder
        )

    async def release_all(self, holder: str) -> int:
        status = await self._conn.execute("DELETE FROM claims WHERE holder = $1", holder)
        return int(status.split()[-1])
