"""The SQLite backend: a write connection used only inside transactions (one at a time,
`BEGIN IMMEDIATE`) and a read-only connection for everything else (WAL lets it read committed
data while a write is under way). One class per repository, all behind `storage.Storage`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiosqlite

from storage.migrations import migrate
from storage.sqlite.connection import connect, connect_read_only, sqlite_path_from_url
from storage.sqlite.digests import SqliteDigests, SqliteDigestsReader
from storage.sqlite.fsm import SqliteFsm, SqliteFsmReader
from storage.sqlite.knowledge import SqliteKnowledgeStats, SqliteKnowledgeStatsReader
from storage.sqlite.meta import SqliteMeta, SqliteMetaReader
from storage.sqlite.polls import SqlitePolls, SqlitePollsReader
from storage.sqlite.preferences import SqlitePreferences, SqlitePreferencesReader
from storage.sqlite.survey import (
    SqliteSubscriptions,
    SqliteSubscriptionsReader,
    SqliteSurvey,
    SqliteSurveyReader,
)

__all__ = [
    "SqliteStorage",
    "SqliteTransaction",
    "connect",
    "connect_read_only",
    "open_storage",
    "sqlite_path_from_url",
]


class SqliteTransaction:
    """Implements `storage.Transaction`: every repository on the write connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.key_destroyed = False
        self.meta = SqliteMeta(conn)
        self.preferences = SqlitePreferences(conn)
        self.fsm = SqliteFsm(conn)
        self.knowledge_stats = SqliteKnowledgeStats(conn)
        self.survey = SqliteSurvey(conn, on_key_destroyed=self._note_key_destroyed)
        self.subscriptions = SqliteSubscriptions(conn)
        self.polls = SqlitePolls(conn)
        self.digests = SqliteDigests(conn)

    def _note_key_destroyed(self) -> None:
        self.key_destroyed = True


class SqliteStorage:
    """Implements `storage.Storage` on one SQLite file."""

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()
        self._writing: asyncio.Task[object] | None = None
        self.meta = SqliteMetaReader(reader)
        self.preferences = SqlitePreferencesReader(reader)
        self.fsm = SqliteFsmReader(reader)
        self.knowledge_stats = SqliteKnowledgeStatsReader(reader)
        self.survey = SqliteSurveyReader(reader)
        self.subscriptions = SqliteSubscriptionsReader(reader)
        self.polls = SqlitePollsReader(reader)
        self.digests = SqliteDigestsReader(reader)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTransaction]:
        task = asyncio.current_task()
        if task is not None and task is self._writing:
            # Waiting for our own lock would hang forever.
            raise RuntimeError("transactions do not nest")
        async with self._write_lock:
            self._writing = task
            try:
                tx = SqliteTransaction(self._writer)
                try:
                    await self._writer.execute("BEGIN IMMEDIATE")
                    yield tx
                    await self._writer.commit()
                except BaseException:
                    # Also when cancelled or when BEGIN or COMMIT failed: never leave the
                    # connection inside a transaction for the next writer.
                    await self._writer.rollback()
                    raise
                if tx.key_destroyed:
                    # The old page with the key may still sit in the WAL: write it back and
                    # truncate the WAL.
                    await self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self._writing = None

    async def close(self) -> None:
        try:
            await self._reader.close()
        finally:
            await self._writer.close()


async def open_storage(url: str) -> SqliteStorage:
    """Open the database named by DATABASE_URL and bring its schema up to date."""
    path = sqlite_path_from_url(url)
    writer = await connect(path)
    try:
        await migrate(writer)
        reader = await connect(path)
    except BaseException:
        await writer.close()
        raise
    try:
        # A write slipped past the transactions fails loudly instead of autocommitting.
        await reader.execute("PRAGMA query_only = ON")
    except BaseException:
        await reader.close()
        await writer.close()
        raise
    return SqliteStorage(writer, reader)
