"""Encrypted dialogue state, keyed by a pseudonymous key."""

from __future__ import annotations

import aiosqlite


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
        await self._conn.execute(
            "INSERT INTO fsm_states (key, blob, wave_id) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET blob = excluded.blob, wave_id = excluded.wave_id",
            (key, blob, wave_id),
        )

    async def delete(self, key: str) -> None:
        await self._conn.execute("DELETE FROM fsm_states WHERE key = ?", (key,))

    async def delete_wave(self, wave_id: int) -> int:
        cursor = await self._conn.execute("DELETE FROM fsm_states WHERE wave_id = ?", (wave_id,))
        return cursor.rowcount
