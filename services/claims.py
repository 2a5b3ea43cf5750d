"""This run's claims on work several instances share (storage `claims`): whoever holds a claim
does the work; a claim lapses, so work a dead instance held is taken up by another."""

from __future__ import annotations

import datetime as dt
import secrets

from services.clock import Clock
from storage import Storage


def poll_close_claim(poll_id: int) -> str:
    return f"poll-close:{poll_id}"


def poll_results_claim(poll_id: int, chat_key: bytes) -> str:
    return f"poll-results:{poll_id}:{chat_key.hex()}"


def wave_broadcast_claim(wave_id: int) -> str:
    return f"wave-broadcast:{wave_id}"


class Claims:
    """Takes and gives up claims as one holder (a random id per run). Lapses are timed by
    `clock`, which should be real time: a claim says whether an instance is alive."""

    def __init__(self, storage: Storage, clock: Clock, holder: str | None = None) -> None:
        self._storage = storage
        self._clock = clock
        self.holder = holder or secrets.token_hex(8)

    async def take(self, name: str, lasting: dt.timedelta) -> bool:
        """Hold `name` for `lasting` (again, if this run holds it); False if another does."""
        now = self._clock.now()
        async with self._storage.transaction() as tx:
            return await tx.claims.claim(name, self.holder, now, now + lasting)

    async def give_up(self, name: str) -> None:
        async with self._storage.transaction() as tx:
            await tx.claims.release(name, self.holder)

    async def give_up_all(self) -> int:
        async with self._storage.transaction() as tx:
            return await tx.claims.release_all(self.holder)
