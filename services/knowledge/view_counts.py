"""Article views and unanswered questions counted in memory and written in one transaction
every few seconds: a write per question cost as much as the search itself. Only counts per
article and per question's search terms are kept, nothing about who read or asked what; a crash
loses at most the last few seconds of counts."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from storage import Storage

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 10.0


class ViewCounts:
    """Gathers article views and unanswered questions and writes them now and then (and on
    `flush`, `close`)."""

    def __init__(self, storage: Storage, interval: float = FLUSH_SECONDS) -> None:
        self._storage = storage
        self._interval = interval
        self._pending: Counter[str] = Counter()
        self._unanswered: Counter[str] = Counter()
        self._timer: asyncio.TimerHandle | None = None
        self._writing: asyncio.Task[None] | None = None

    def add(self, article_id: str) -> None:
        """One more view of the article, written within `interval` seconds."""
        self._pending[article_id] += 1
        self._write_soon()

    def add_unanswered(self, terms: str) -> None:
        """One more question the guide had no answer to, by its search terms."""
        self._unanswered[terms] += 1
        self._write_soon()

    def _write_soon(self) -> None:
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
        """Write the counts gathered so far, before reading the figures."""
        pending, self._pending = self._pending, Counter()
        unanswered, self._unanswered = self._unanswered, Counter()
        if not pending and not unanswered:
            return
        try:
            async with self._storage.transaction() as tx:
                for article_id, views in sorted(pending.items()):
                    await tx.knowledge_stats.record_view(article_id, views)
                for terms, times in sorted(unanswered.items()):
                    await tx.knowledge_stats.record_unanswered(terms, times)
        except BaseException:
            # Not written: the next flush tries again.
            self._pending.update(pending)
            self._unanswered.update(unanswered)
            raise

    async def close(self) -> None:
        """Write what is pending; nothing is scheduled after this."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._writing is not None:
            await self._writing
        await self.flush()
