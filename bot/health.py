"""`vyraj health`: the database answers and the bot reached the Bot API lately."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

# The running bot touches the heartbeat file at most this often (bot/heartbeat.py).
TOUCH_INTERVAL_SECONDS = 30.0
# Long polling gets an answer from getUpdates at least every 10 s, so a healthy bot touches the
# file at least every TOUCH_INTERVAL_SECONDS plus one poll; this leaves room for a slow call.
HEALTHY_WITHIN_SECONDS = 90.0
# A health check must answer quickly, whatever state the PostgreSQL server is in.
POSTGRES_TIMEOUT_SECONDS = 5.0


class UnhealthyError(Exception):
    """The bot cannot reach its database or has not reached the Bot API lately."""


def heartbeat_file_for(database_path: Path) -> Path:
    return database_path.with_name(database_path.name + ".heartbeat")


def check_sqlite(database_path: Path) -> None:
    """The SQLite file opens read-only and its catalogue reads."""
    try:
        with contextlib.closing(
            sqlite3.connect(f"{database_path.resolve().as_uri()}?mode=ro", uri=True)
        ) as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        raise UnhealthyError(f"the database does not open read-only: {exc}") from None


async def check_postgres(url: str, timeout: float = POSTGRES_TIMEOUT_SECONDS) -> None:
    """The server accepts a connection and answers a read-only query, all within `timeout`."""
    import asyncpg  # only on PostgreSQL

    from storage.opening import describe_server

    try:
        async with asyncio.timeout(timeout):
            conn = await asyncpg.connect(url, timeout=timeout)
            try:
                async with conn.transaction(readonly=True):
                    await conn.fetchval("SELECT 1")
            finally:
                await conn.close()
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise UnhealthyError(
            f"the database at {describe_server(url)} does not answer ({reason})"
        ) from None


def check_heartbeat(heartbeat: Path, *, now: float, max_age: float | None) -> float:
    """The heartbeat's age in seconds; UnhealthyError when missing or older than `max_age`."""
    try:
        age = now - heartbeat.stat().st_mtime
    except FileNotFoundError:
        raise UnhealthyError("no successful Bot API call yet") from None
    if max_age is not None and age > max_age:
        raise UnhealthyError(f"no successful Bot API call for {age:.0f} s")
    return max(age, 0)


def healthy_line(age: float) -> str:
    return f"healthy: the database opens, last Bot API call {age:.0f} s ago"
