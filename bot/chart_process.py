"""Charts drawn in a process of their own: matplotlib holds the GIL for a fifth of a second per
chart, which in the bot's process would hold every other person's update for as long. The
process (`python -m bot.chart_worker`, which imports only the chart drawing) starts at the first
chart and stops after a quiet spell, and at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import sys

from bot.chart_worker import DRAWN, HEADER, encode_chart
from services.charts import Chart

# Charts come in bursts (a digest, a poll's results in a few chats): kept warm for a while.
IDLE_SECONDS = 300.0
STOP_SECONDS = 5.0


class ChartError(RuntimeError):
    """The chart process could not draw the chart (it failed, or it died)."""


class ChartProcess:
    """Draws `Chart`s in one worker process, started when needed, one chart at a time."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self._idle_seconds = idle_seconds
        self._process: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        self._idle_stop: asyncio.TimerHandle | None = None
        self._stopping: set[asyncio.Task[None]] = set()

    @property
    def running(self) -> bool:
        return self._process is not None

    async def draw(self, chart: Chart) -> bytes:
        """The chart as PNG."""
        async with self._lock:
            if self._idle_stop is not None:
                self._idle_stop.cancel()
                self._idle_stop = None
            if self._process is None:
                self._process = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot.chart_worker",
                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                )  # fmt: skip
            process = self._process
            assert process.stdin is not None
            assert process.stdout is not None
            try:
                process.stdin.write(encode_chart(chart))
                await process.stdin.drain()
                head = await process.stdout.readexactly(1 + HEADER.size)
                (length,) = HEADER.unpack(head[1:])
                payload = await process.stdout.readexactly(length)
            except BaseException as exc:
                # Died, or cut off half-way (cancelled): the pipe is out of step, so a new one.
                self._process = None
                await _stop(process, at_once=True)
                if isinstance(exc, (ConnectionError, asyncio.IncompleteReadError)):
                    raise ChartError("the chart process ended unexpectedly") from exc
                raise
            self._idle_stop = asyncio.get_running_loop().call_later(
                self._idle_seconds, self._stop_when_idle
            )
        if head[0] != DRAWN:
            raise ChartError(payload.decode(errors="replace"))
        return payload

    def _stop_when_idle(self) -> None:
        self._idle_stop = None
        process, self._process = self._process, None
        if process is not None:
            task = asyncio.create_task(_stop(process))
            self._stopping.add(task)
            task.add_done_callback(self._stopping.discard)

    async def close(self) -> None:
        """Stop the worker and wait until it has exited; idempotent."""
        async with self._lock:
            if self._idle_stop is not None:
                self._idle_stop.cancel()
                self._idle_stop = None
            process, self._process = self._process, None
            if process is not None:
                await _stop(process)
        for task in list(self._stopping):
            await task


async def _stop(process: asyncio.subprocess.Process, *, at_once: bool = False) -> None:
    """End the worker: its input closed, it exits; killed if it does not in time, or at once."""
    if process.stdin is not None:
        process.stdin.close()
    try:
        await asyncio.wait_for(process.wait(), 0 if at_once else STOP_SECONDS)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
