"""One update at a time per chat and person, with a lock table that holds only the locks in use.

aiogram's SimpleEventIsolation keeps a lock for every key it has ever seen (about 340 bytes per
distinct person, never given back); here a lock lives only while an update holds or awaits it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Hashable
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey


class _Entry:
    """A lock and how many updates hold or await it."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class BoundedEventIsolation(BaseEventIsolation):
    """Serialises updates per key; the table's size is the number of updates in flight."""

    def __init__(self) -> None:
        self._entries: dict[Hashable, _Entry] = {}

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            # Counted on every path (a cancelled waiter included), so no entry outlives its use.
            entry.users -= 1
            if entry.users == 0 and self._entries.get(key) is entry:  # not cleared by close
                del self._entries[key]

    @property
    def size(self) -> int:
        """Locks currently in the table."""
        return len(self._entries)

    async def close(self) -> None:
        self._entries.clear()
