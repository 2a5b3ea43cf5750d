"""Small named values about the installation."""

from __future__ import annotations

from storage.postgres.connection import Executor


class PostgresMetaReader:
    """The reads; `PostgresMeta` adds the writes, for use inside a transaction only."""

    def __init__(self, db: Executor) -> None:
        self._db = db

    async def get(self, name: str) -> str | None:
        value = await self._db.fetchval("SELECT value FROM meta WHERE name = $1", name)
        return None if value is None else str(value)


class PostgresMeta(PostgresMetaReader):
    async def set(self, name: str, value: str) -> None:
        await self._db.execute(
            "INSERT INTO meta (name, value) VALUES ($1, $2) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            name,
            value,
        )
