"""APScheduler's AsyncIOScheduler, loaded without the pool executors it never uses.

apscheduler.schedulers.base imports apscheduler.executors.pool only to name the thread-pool
default of the schedulers that run jobs in threads; that module brings multiprocessing and
concurrent.futures.process into a bot whose jobs all run on its event loop (~1 MiB idle).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.lean_imports import import_without

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler


def asyncio_scheduler(timezone: str) -> AsyncIOScheduler:
    """A new AsyncIOScheduler in `timezone` (an IANA name)."""
    import_without(
        "apscheduler.schedulers.base", "apscheduler.executors.pool", "ThreadPoolExecutor"
    )
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    return AsyncIOScheduler(timezone=timezone)
