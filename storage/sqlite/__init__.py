"""The SQLite backend: a write connection used only inside transactions (one at a time,
`BEGIN IMMEDIATE`) and a read-only connection for everything else (WAL lets it read committed
data while a write is under way). One class per repository, all behind `storage.Storage`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiosqlite

from storage.migrations import migrate
from storage.sqlite.claims import SqliteClaims
from storage.sqlite.connection import (
    BUSY_TIMEOUT_MS,
    connect,
    connect_read_only,
    sqlite_path_from_url,
)
from storage.sqlite.digests import SqliteDigests, SqliteDigestsReader
from storage.sqlite.fsm import SqliteFsm, SqliteFsmReader, write_dialogue_alone
from storage.sqlite.knowledge import SqliteKnowledgeStats, SqliteKnowledgeStatsReader
from storage.sqlite.meta import SqliteMeta, SqliteMetaReader
from storage.sqlite.polls import SqlitePolls, SqlitePollsReader
from storage.sqlite.preferences import LocaleCache, SqlitePreferences, SqlitePreferencesReader
from storage.sqlite.survey import (
    CurrentWaveCache,
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
    "open_sqlite",
    "sqlite_path_from_url",
]

logger = logging.getLogger(__name__)

# How long a deletion's confirmation waits for readers to let the checkpoint through, how
# often it asks, and how often the background retry asks after that.
_CHECKPOINT_PATIENCE = 3.0
_CHECKPOINT_RETRY = 0.05
_BACKGROUND_RETRY = 1.0


class SqliteTransaction:
    """Implements `storage.Transaction`: every repository on the write connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.meta = SqliteMeta(conn)
        self.preferences = SqlitePreferences(conn)
        self.fsm = SqliteFsm(conn)
        self.knowledge_stats = SqliteKnowledgeStats(conn)
        self.survey = SqliteSurvey(conn)
        self.subscriptions = SqliteSubscriptions(conn)
        self.polls = SqlitePolls(conn)
        self.digests = SqliteDigests(conn)
        self.claims = SqliteClaims(conn)


class SqliteStorage:
    """Implements `storage.Storage` on one SQLite file."""

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()
        self._writing: asyncio.Task[object] | None = None
        self._finishing: asyncio.Task[None] | None = None
        self.meta = SqliteMetaReader(reader)
        # Read on every update (the locale); the writes below keep it current.
        self._locales = LocaleCache()
        self.preferences = SqlitePreferencesReader(reader, self._locales)
        self.fsm = SqliteFsmReader(reader)
        self.knowledge_stats = SqliteKnowledgeStatsReader(reader)
        # Read on every survey press; the transactions that open or close a wave drop it.
        self._current_wave = CurrentWaveCache()
        self.survey = SqliteSurveyReader(reader, self._current_wave)
        self.subscriptions = SqliteSubscriptionsReader(reader)
        self.polls = SqlitePollsReader(reader)
        self.digests = SqliteDigestsReader(reader)

    def _not_writing(self) -> asyncio.Task[object] | None:
        task = asyncio.current_task()
        if task is not None and task is self._writing:
            # Waiting for our own lock would hang forever.
            raise RuntimeError("transactions do not nest")
        return task

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTransaction]:
        task = self._not_writing()
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
                finally:
                    self._locales.drop(tx.preferences.changed)
                    if tx.survey.waves_changed:
                        self._current_wave.drop()
            finally:
                self._writing = None

    async def write_dialogue(
        self, key: str, blob: bytes | None, wave_id: int | None = None
    ) -> None:
        self._not_writing()
        async with self._write_lock:
            await write_dialogue_alone(self._writer, key, blob, wave_id)

    async def checkpoint_truncate(self) -> bool:
        if asyncio.current_task() is self._writing:
            raise RuntimeError("checkpoint after the transaction commits, not inside it")
        # Deleted rows live on in older WAL frames and in the main file's old pages until a
        # TRUNCATE checkpoint completes; a reader's open snapshot blocks it for a moment.
        deadline = time.monotonic() + _CHECKPOINT_PATIENCE
        while not await self._checkpoint_once():
            if time.monotonic() >= deadline:
                if self._finishing is None or self._finishing.done():
                    self._finishing = asyncio.create_task(self._finish_checkpoint())
                return False
            await asyncio.sleep(_CHECKPOINT_RETRY)
        return True

    async def _finish_checkpoint(self) -> None:
        try:
            while not await self._checkpoint_once():
                await asyncio.sleep(_BACKGROUND_RETRY)
        except sqlite3.Error:
            logger.exception("The deleted data could not be checkpointed off the disk")

    async def _checkpoint_once(self) -> bool:
        async with self._write_lock:
            # Fail at once when blocked instead of waiting out busy_timeout: the caller retries.
            await self._writer.execute("PRAGMA busy_timeout = 0")
            try:
                async with self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
                    row = await cur.fetchone()
            finally:
                await self._writer.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        busy, log_frames, checkpointed = row if row is not None else (1, -1, 0)
        return bool(busy == 0 and log_frames == checkpointed)

    async def close(self) -> None:
        if self._finishing is not None:
            # Closing the last connection checkpoints the WAL and removes it anyway.
            self._finishing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._finishing
        try:
            await self._reader.close()
        finally:
            await self._writer.close()


async def open_sqlite(url: str) -> SqliteStorage:
    """Open the database named by DATABASE_URL and bring its schema up to date."""
    path = sqlite_path_from_url(url)
    writer = await connect(path)
    try:
        await migrate(writer)
        # One process uses the file at a time (`vyraj run` holds its lock): claims left in it
        # are a dead run's, and nobody else's work waits on them.
        await writer.execute("DELETE FROM claims")
        await writer.commit()
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
