"""Encrypted dialogue state, keyed by a pseudonymous key."""

from __future__ import annotations

from storage.postgres.connection import Executor, affected


class PostgresFsmReader:
    """The reads; `PostgresFsm` adds the writes, for use inside a transaction only."""

    def __init__(self, db: Executor) -> None:
        self._db = db

    async def load(self, key: str) -> bytes | None:
        blob = await self._db.fetchval("SELECT blob FROM fsm_states WHERE key = $1", key)
        return None if blob is None else bytes(blob)


class PostgresFsm(PostgresFsmReader):
    async def save(self, key: str, blob: bytes, wave_id: int | None = None) -> None:
        await self._db.execute(
            "INSERT INTO fsm_states (key, blob, wave_id) VALUES ($1, $2, $3) "
            "ON CONFLICT (key) DO UPDATE SET blob = excluded.blob, wave_id = excluded.wave_id",
            key,
            blob,
            wave_id,
        )

    async def delete(self, key: str) -> None:
        await self._db.execute("DELETE FROM fsm_states WHERE key = $1", key)

    async def delete_wave(self, wave_id: int) -> int:
        return affected(
            await self._db.execute("DELETE FROM fsm_states WHERE wave_id = $1", wave_id)
        )
