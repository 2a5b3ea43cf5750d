"""Typed lines for the terminal sandbox, read without ever blocking the event loop's exit."""

from __future__ import annotations

import asyncio
import codecs
import os
import threading


class LineReader:
    """Lines from a file descriptor, read on a daemon thread with `os.read`.

    Neither `input()` in an executor nor a buffered `sys.stdin` would do: at Ctrl-C the executor
    waits for Enter, and a daemon thread holding stdin's buffer lock breaks interpreter exit.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._loop = asyncio.get_running_loop()
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        threading.Thread(target=self._read, name="sandbox-input", daemon=True).start()

    async def next_line(self) -> str | None:
        """The next line without its newline; None at end of input (Ctrl-D)."""
        return await self._lines.get()

    def _read(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending = ""
        while True:
            try:
                chunk = os.read(self._fd, 4096)
            except OSError:
                chunk = b""
            pending += decoder.decode(chunk, final=not chunk)
            *complete, pending = pending.split("\n")
            lines: list[str | None] = list(complete)
            if not chunk:
                lines += [pending, None] if pending else [None]
            for line in lines:
                if not self._hand_over(line):
                    return
            if not chunk:
                return

    def _hand_over(self, line: str | None) -> bool:
        try:
            self._loop.call_soon_threadsafe(self._lines.put_nowait, line)
        except RuntimeError:  # the loop is closed: the sandbox has ended
            return False
        return True
