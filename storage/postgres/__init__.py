"""The PostgreSQL backend: an asyncpg pool shared by the readers (each read sees committed
data) and one pooled connection per unit of work. One class per repository, all behind
`storage.Storage`; see README.md for what it guarantees and how that differs from SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg

from storage.postgres.claims import PostgresClaims
from storage.postgres.connection import Connection, create_pool
from storage.postgres.digests import PostgresDigests, PostgresDigestsReader
from storage.postgres.fsm import PostgresFsm, PostgresFsmReader
from storage.postgres.key_vault import AfterCommit, KeyVault, KeyVaultError
from storage.postgres.knowledge import PostgresKnowledgeStats, PostgresKnowledgeStatsReader
from storage.postgres.meta import PostgresMeta, PostgresMetaReader
from storage.postgres.migrations import SchemaOutdatedError, migrate, require_latest
from storage.postgres.pending import PendingKeys
from storage.postgres.polls import PostgresPolls, PostgresPollsReader
from storage.postgres.preferences import PostgresPreferences, PostgresPreferencesReader
from storage.postgres.survey import (
    PostgresSubscriptions,
    PostgresSubscriptionsReader,
    PostgresSurvey,
    PostgresSurveyReader,
)

__all__ = [
    "KeyVaultError",
    "PostgresStorage",
    "PostgresTransaction",
    "SchemaOutdatedError",
    "open_postgres",
]

# Every unit of work, on every instance, holds this transaction-level advisory lock: writers
# run one at a time as on SQLite (BEGIN IMMEDIATE), so a read-then-write inside one is safe.
WRITE_LOCK = 0x56797261_6A5F5752  # "Vyraj_WR"


class PostgresTransaction:
    """Implements `storage.Transaction`: every repository on one connection."""

    def __init__(self, conn: Connection, keys: PendingKeys, vault: KeyVault) -> None:
        # Run by the storage once this unit of work committed.
        self.after_commit: list[AfterCommit] = []
        self.meta = PostgresMeta(conn)
        self.preferences = PostgresPreferences(conn)
        self.fsm = PostgresFsm(conn)
        self.knowledge_stats = PostgresKnowledgeStats(conn)
        self.survey = PostgresSurvey(conn, keys, vault, self.after_commit)
        self.subscriptions = PostgresSubscriptions(conn)
        self.polls = PostgresPolls(conn, vault, self.after_commit)
        self.digests = PostgresDigests(conn)
        self.claims = PostgresClaims(conn)


class PostgresStorage:
    """Implements `storage.Storage` on a PostgreSQL database shared by any number of bots."""

    def __init__(self, pool: asyncpg.Pool[Any], keys: PendingKeys, vault: KeyVault) -> None:
        self._pool = pool
        self._keys = keys
        self._vault = vault
        # Waiting writers of this process queue here, not on pooled connections.
        self._write_lock = asyncio.Lock()
        self._writing: asyncio.Task[object] | None = None
        self.meta = PostgresMetaReader(pool)
        self.preferences = PostgresPreferencesReader(pool)
        self.fsm = PostgresFsmReader(pool)
        self.knowledge_stats = PostgresKnowledgeStatsReader(pool)
        self.survey = PostgresSurveyReader(pool, keys, vault)
        self.subscriptions = PostgresSubscriptionsReader(pool)
        self.polls = PostgresPollsReader(pool, vault)
        self.digests = PostgresDigestsReader(pool)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresTransaction]:
        task = asyncio.current_task()
        if task is not None and task is self._writing:
            # Waiting for our own lock would hang forever.
            raise RuntimeError("transactions do not nest")
        async with self._write_lock:
            self._writing = task
            try:
                async with self._pool.acquire() as conn:
                    tx = PostgresTransaction(conn, self._keys, self._vault)
                    async with conn.transaction():
                        # Rolled back on any exception, cancellation included, by asyncpg.
                        await conn.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)
                        yield tx
                for action in tx.after_commit:
                    await action()
            finally:
                self._writing = None

    async def write_dialogue(
        self, key: str, blob: bytes | None, wave_id: int | None = None
    ) -> None:
        async with self.transaction() as tx:
            if blob is None:
                await tx.fsm.delete(key)
            else:
                await tx.fsm.save(key, blob, wave_id)

    async def checkpoint_truncate(self) -> bool:
        """Nothing to push: a deleted row lingers in dead tuples, WAL and backups until
        vacuumed, recycled or expired, which no call here can force. What must not survive
        there is sealed under a key that is itself destroyed (README.md, crypto-shredding)."""
        if asyncio.current_task() is self._writing:
            raise RuntimeError("checkpoint after the transaction commits, not inside it")
        return True

    async def close(self) -> None:
        await self._pool.close()


async def open_postgres(
    url: str, pending_key: bytes, key_vault: Path, *, upgrade: bool = True
) -> PostgresStorage:
    """Open the database named by DATABASE_URL and bring its schema up to date (or, without
    `upgrade`, refuse an outdated one with SchemaOutdatedError); `pending_key` (from SECRET_KEY,
    the same on every instance) and each wave's key seal the responses awaiting publication;
    `key_vault`, a folder outside PostgreSQL, holds the KEKs that crypto-shred closed keys
    (KeyVaultError when it cannot be used)."""
    keys = PendingKeys(pending_key)
    vault = await asyncio.to_thread(KeyVault.create, key_vault)
    pool = await create_pool(url)
    try:
        async with pool.acquire() as conn:
            await (migrate(conn) if upgrade else require_latest(conn))
    except BaseException:
        await pool.close()
        raise
    return PostgresStorage(pool, keys, vault)
