"""A person's settings, keyed by their pseudonym."""

from __future__ import annotations

import aiosqlite


class SqlitePreferencesReader:
    """The reads; `SqlitePreferences` adds the writes, for use inside a transaction only."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def get_locale(self, person: str) -> str | None:
        async with self._conn.execute(
            "SELECT locale FROM preferences WHERE person = ?", (person,)
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else str(row[0])


class SqlitePreferences(SqlitePreferencesReader):
    async def set_locale(self, person: str, locale: str) -> None:
        await self._conn.execute(
            "INSERT INTO preferences (person, locale) VALUES (?, ?) "
            "ON CONFLICT (person) DO UPDATE SET locale = excluded.locale",
            (person, locale),
        )

    async def forget(self, person: str) -> None:
        await self._conn.execute("DELETE FROM preferences WHERE person = ?", (person,))
