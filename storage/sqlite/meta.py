"""Small named values about the installation."""

from __future__ import annotations

import aiosqlite


class SqliteMetaReader:
    """The reads; `SqliteMeta` adds the writes, for use inside a transaction only."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def get(self, name: str) -> str | None:
        async with self._conn.execute("SELECT value FROM meta WHERE name = ?", (name,)) as cur:
            row = await cur.fetchone()
        return None if row is None else str(row[0])


class SqliteMeta(SqliteMetaReader):
    async def set(self, name: str, value: str) -> None:
        await self._conn.execute(
            "INSERT INTO meta (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )
