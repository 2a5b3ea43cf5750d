"""A person's settings, keyed by their pseudonym."""

from __future__ import annotations

from storage.postgres.connection import Executor


class PostgresPreferencesReader:
    """The reads; `PostgresPreferences` adds the writes, for use inside a transaction only.

    Nothing is cached in the process: another instance may change the row at any time."""

    def __init__(self, db: Executor) -> None:
        self._db = db

    async def get_locale(self, person: str) -> str | None:
        value = await self._db.fetchval("SELECT locale FROM preferences WHERE person = $1", person)
        return None if value is None else str(value)


class PostgresPreferences(PostgresPreferencesReader):
    async def set_locale(self, person: str, locale: str) -> None:
        await self._db.execute(
            "INSERT INTO preferences (person, locale) VALUES ($1, $2) "
            "ON CONFLICT (person) DO UPDATE SET locale = excluded.locale",
            person,
            locale,
        )

    async def forget(self, person: str) -> None:
        await self._db.execute("DELETE FROM preferences WHERE person = $1", person)
