"""One limit on sends: at most so many in any one-second window, for one instance or all."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Protocol


class SendLimit(Protocol):
    """Wait for a place before a send; `release` it once the send has its reply."""

    async def acquire(self) -> None: ...

    async def release(self) -> None: ...


@contextlib.asynccontextmanager
async def place_in(window: SendLimit | None) -> AsyncIterator[None]:
    """Hold a place in `window` (if any) around one send."""
    if window is None:
        yield
        return
    await window.acquire()
    try:
        yield
    finally:
        await window.release()
