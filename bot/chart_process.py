"""Charts drawn in a process of their own: matplotlib holds the GIL for a fifth of a second per
chart, which in the bot's process would hold every other person's update for as long. The
process starts at the first chart and stops after a quiet spell, and at shutdown."""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from services.charts import Chart, draw_chart

# Charts come in bursts (a digest, a poll's results in a few chats): kept warm for a while.
IDLE_SECONDS = 300.0


class ChartProcess:
    """Draws `Chart`s in one worker process, started when needed."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self._idle_seconds = idle_seconds
        self._pool: ProcessPoolExecutor | None = None
        self._drawing = 0
        self._idle_stop: asyncio.TimerHandle | None = None

    @property
    def running(self) -> bool:
        return self._pool is not None

    async def draw(self, chart: Chart) -> bytes:
        """The chart as PNG."""
        if self._idle_stop is not None:
            self._idle_stop.cancel()
            self._idle_stop = None
        if self._pool is None:
            # 'spawn': a fresh interpreter; nothing of the bot (keys, sockets) is copied into it.
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        pool = self._pool
        self._drawing += 1
        try:
            return await asyncio.wrap_future(pool.submit(draw_chart, chart))
        except BrokenProcessPool:
            # The worker died (killed, out of memory): the next chart starts another.
            if self._pool is pool:
                self._stop()
            raise
        finally:
            self._drawing -= 1
            if self._drawing == 0 and self._pool is not None:
                loop = asyncio.get_running_loop()
                self._idle_stop = loop.call_later(self._idle_seconds, self._stop)

    def _stop(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    async def close(self) -> None:
        """Stop the worker and wait until it has exited; idempotent."""
        if self._idle_stop is not None:
            self._idle_stop.cancel()
            self._idle_stop = None
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
