"""Opening the asyncpg pool, and what every PostgreSQL repository shares."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# A connection of its own or one lent by the pool.
Connection: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"
# What a repository runs its SQL on: the pool for committed reads, a connection inside a
# transaction. Both have the same fetch/execute methods.
Executor: TypeAlias = "asyncpg.Pool[Any] | Connection"


def affected(status: str) -> int:
    """The row count of a command tag such as `UPDATE 3` or `INSERT 0 1`."""
    return int(status.rsplit(" ", 1)[-1])


async def create_pool(url: str, max_size: int = 10) -> asyncpg.Pool[Any]:
    """A pool on DATABASE_URL; the connections keep UTC and no statement runs for ever."""
    pool: asyncpg.Pool[Any] = await asyncpg.create_pool(
        url,
        min_size=1,
        max_size=max_size,
        server_settings={"timezone": "UTC", "application_name": "vyraj"},
    )
    return pool


@asynccontextmanager
async def one_snapshot(db: Executor) -> AsyncIterator[Connection]:
    """A connection on which several statements read the same committed state: a read-only
    REPEATABLE READ transaction on the pool, or the caller's own transaction."""
    if isinstance(db, asyncpg.Pool):
        async with (
            db.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            yield conn
    else:
        yield db
