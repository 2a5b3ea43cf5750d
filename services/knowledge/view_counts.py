"""Article views counted in memory and written in one transaction every few seconds: a write
per answered question cost as much as the search itself. Only counts per article are kept,
nothing about who read what; a crash loses at most the last few seconds of counts."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from storage import Storage

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 10.0


class ViewCounts:
    """Gathers article views and writes them now and then (and on `flush`, `close`)."""

    def __init__(self, storage: Storage, interval: float = FLUSH_SECONDS) -> None:
        self._storage = storage
        self._interval = interval
        self._pending: Counter[str] = Counter()
        self._timer: asyncio.TimerHandle | None = None
        self._writing: asyncio.Task[None] | None = None

    def add(self, article_id: str) -> None:
        """One more view of the article, written within `interval` seconds."""
        self._pending[article_id] += 1
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._interval, self._write_later)

    def _write_later(self) -> None:
        self._timer = None
        self._writing = asyncio.create_task(self._write_logged())

    async def _write_logged(self) -> None:
        try:
            await self.flush()
        except Exception:
            logger.exception("Article views could not be written; kept for the next try")

    async def flush(self) -> None:
        """Write the views gathered so far, before reading the figures."""
        pending, self._pending = self._pending, Counter()
        if not pending:
            return
        try:
            async with self._storage.transaction() as tx:
                for article_id, views in sorted(pending.items()):
                    await tx.knowledge_stats.record_view(article_id, views)
        except BaseException:
            self._pending.update(pending)  # not written: the next flush tries again
            raise

    async def close(self) -> None:
        """Write what is pending; nothing is scheduled after this."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._writing is not None:
            await self._writing
        await self.flush()
