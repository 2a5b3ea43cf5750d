"""Encrypted dialogue state, keyed by a pseudonymous key."""

from __future__ import annotations

import sqlite3

import aiosqlite

_SAVE = (
    "INSERT INTO fsm_states (key, blob, wave_id) VALUES (?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET blob = excluded.blob, wave_id = excluded.wave_id"
)
_DELETE = "DELETE FROM fsm_states WHERE key = ?"


class SqliteFsmReader:
    """The reads; `SqliteFsm` adds the writes, for use inside a transaction only."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def load(self, key: str) -> bytes | None:
        # In one step on the connection's thread (one hop, not three): a statement left open
        # across awaits would let other reads share its old snapshot and miss newer commits.
        rows = list(
            await self._conn.execute_fetchall("SELECT blob FROM fsm_states WHERE key = ?", (key,))
        )
        return bytes(rows[0][0]) if rows else None


class SqliteFsm(SqliteFsmReader):
    async def save(self, key: str, blob: bytes, wave_id: int | None = None) -> None:
        await self._conn.execute(_SAVE, (key, blob, wave_id))

    async def delete(self, key: str) -> None:
        await self._conn.execute(_DELETE, (key,))

    async def delete_wave(self, wave_id: int) -> int:
        cursor = await self._conn.execute("DELETE FROM fsm_states WHERE wave_id = ?", (wave_id,))
        return cursor.rowcount


async def write_dialogue_alone(
    conn: aiosqlite.Connection, key: str, blob: bytes | None, wave_id: int | None
) -> None:
    """Save (blob None: delete) one dialogue as a transaction of its own, BEGIN to COMMIT in
    one trip to the connection's thread: each trip costs a survey press ~60 µs of CPU."""
    # aiosqlite has no public call that runs several steps in its thread; `_execute` is the
    # one its own methods use (pinned in the lock files).
    await conn._execute(_write_alone, conn, key, blob, wave_id)  # type: ignore[no-untyped-call]


def _write_alone(
    conn: aiosqlite.Connection, key: str, blob: bytes | None, wave_id: int | None
) -> None:
    db: sqlite3.Connection = conn._conn  # on the connection's own thread
    db.execute("BEGIN IMMEDIATE")
    try:
        if blob is None:
            db.execute(_DELETE, (key,))
        else:
            db.execute(_SAVE, (key, blob, wave_id))
        db.commit()
    except BaseException:
        # The thread finishes this even if the awaiting task is cancelled (the write may then
        # still land, as if done just before): the connection is never left in a transaction.
        db.rollback()
        raise
