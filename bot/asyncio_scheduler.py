"""APScheduler's AsyncIOScheduler, loaded without the pool executors it never uses.

apscheduler.schedulers.base imports apscheduler.executors.pool only to name the thread-pool
default of the schedulers that run jobs in threads; that module brings multiprocessing and
concurrent.futures.process into a bot whose jobs all run on its event loop (~1 MiB idle).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

POOL_MODULE = "apscheduler.executors.pool"
BASE_MODULE = "apscheduler.schedulers.base"


def asyncio_scheduler(timezone: str) -> AsyncIOScheduler:
    """A new AsyncIOScheduler in `timezone` (an IANA name)."""
    _import_base_without_pools()
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    return AsyncIOScheduler(timezone=timezone)


def _import_base_without_pools() -> None:
    if BASE_MODULE in sys.modules or POOL_MODULE in sys.modules:
        return
    stand_in = types.ModuleType(POOL_MODULE)
    stand_in.ThreadPoolExecutor = _thread_pool_executor  # type: ignore[attr-defined]
    sys.modules[POOL_MODULE] = stand_in
    try:
        importlib.import_module(BASE_MODULE)
    finally:
        # Gone again once the base module holds its name: an import of the pool module from
        # here on loads the real one.
        if sys.modules.get(POOL_MODULE) is stand_in:
            del sys.modules[POOL_MODULE]


def _thread_pool_executor(*args: Any, **kwargs: Any) -> Any:
    """The real ThreadPoolExecutor, for a scheduler that asks for its default after all."""
    return importlib.import_module(POOL_MODULE).ThreadPoolExecutor(*args, **kwargs)
