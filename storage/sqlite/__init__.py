"""The SQLite backend: one aiosqlite connection (WAL, foreign keys, busy timeout), one class per
repository, all behind `storage.Storage`."""

from __future__ import annotations

import aiosqlite

from storage.migrations import migrate
from storage.sqlite.connection import connect, connect_read_only, sqlite_path_from_url
from storage.sqlite.digests import SqliteDigests
from storage.sqlite.fsm import SqliteFsm
from storage.sqlite.knowledge import SqliteKnowledgeStats
from storage.sqlite.meta import SqliteMeta
from storage.sqlite.polls import SqlitePolls
from storage.sqlite.preferences import SqlitePreferences
from storage.sqlite.survey import SqliteSubscriptions, SqliteSurvey

__all__ = [
    "SqliteStorage",
    "connect",
    "connect_read_only",
    "open_storage",
    "sqlite_path_from_url",
]


class SqliteStorage:
    """Implements `storage.Storage` on one SQLite file."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._meta = SqliteMeta(conn)
        self._preferences = SqlitePreferences(conn)
        self._fsm = SqliteFsm(conn)
        self._knowledge_stats = SqliteKnowledgeStats(conn)
        self._survey = SqliteSurvey(conn)
        self._subscriptions = SqliteSubscriptions(conn)
        self._polls = SqlitePolls(conn)
        self._digests = SqliteDigests(conn)

    @property
    def meta(self) -> SqliteMeta:
        return self._meta

    @property
    def preferences(self) -> SqlitePreferences:
        return self._preferences

    @property
    def fsm(self) -> SqliteFsm:
        return self._fsm

    @property
    def knowledge_stats(self) -> SqliteKnowledgeStats:
        return self._knowledge_stats

    @property
    def survey(self) -> SqliteSurvey:
        return self._survey

    @property
    def subscriptions(self) -> SqliteSubscriptions:
        return self._subscriptions

    @property
    def polls(self) -> SqlitePolls:
        return self._polls

    @property
    def digests(self) -> SqliteDigests:
        return self._digests

    async def close(self) -> None:
        await self._conn.close()


async def open_storage(url: str) -> SqliteStorage:
    """Open the database named by DATABASE_URL and bring its schema up to date."""
    conn = await connect(sqlite_path_from_url(url))
    try:
        await migrate(conn)
    except BaseException:
        await conn.close()
        raise
    return SqliteStorage(conn)
