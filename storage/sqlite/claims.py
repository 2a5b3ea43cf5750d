"""Claims on shared work with an expiry: one holder at a time, taken over once lapsed."""

from __future__ import annotations

import datetime as dt

import aiosqlite


def _stamp(instant: dt.datetime) -> str:
    """A UTC time that orders as text (the same format for every row)."""
    return instant.astimezone(dt.UTC).isoformat(timespec="microseconds")


class SqliteClaims:
    """For use inside a transaction only."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def claim(self, name: str, holder: str, now: dt.datetime, until: dt.datetime) -> bool:
        async with self._conn.execute(
            "INSERT INTO claims (name, holder, until) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until "
            "WHERE claims.holder = excluded.holder OR claims.until <= ? RETURNING 1",
            (name, holder, _stamp(until), _stamp(now)),
        ) as cur:
            return await cur.fetchone() is not None

    async def release(self, name: str, holder: str) -> None:
        await self._conn.execute(
            "DELETE FROM claims WHERE name = ? AND holder = ?", (name, holder)
        )

    async def release_all(self, holder: str) -> int:
        cursor = await self._conn.execute("DELETE FROM claims WHERE holder = ?", (holder,))
        return cursor.rowcount
