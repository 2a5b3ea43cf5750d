"""The bot's AsyncIOScheduler comes without APScheduler's pool executors and multiprocessing."""

from __future__ import annotations

import asyncio

from bot.asyncio_scheduler import asyncio_scheduler
from tests.test_lean_imports import run_fresh


def test_a_new_scheduler_loads_no_process_pool() -> None:
    output = run_fresh(
        """
        import sys
        from bot.scheduler import Scheduler
        from services.clock import SystemClock
        Scheduler("Europe/Warsaw", SystemClock())
        print(sorted(
            name for name in ("multiprocessing", "concurrent.futures.process",
                              "apscheduler.executors.pool")
            if name in sys.modules
        ))
        """
    )
    assert output == "[]"


def test_the_real_pool_module_loads_when_asked_for_afterwards() -> None:
    output = run_fresh(
        """
        from bot.asyncio_scheduler import asyncio_scheduler
        asyncio_scheduler("UTC")
        from apscheduler.executors.pool import ProcessPoolExecutor, ThreadPoolExecutor
        from apscheduler.schedulers.base import BaseScheduler
        print(ThreadPoolExecutor.__module__, ProcessPoolExecutor.__name__)
        """
    )
    assert output == "apscheduler.executors.pool ProcessPoolExecutor"


async def test_the_scheduler_runs_a_job_on_the_loop() -> None:
    scheduler = asyncio_scheduler("Europe/Warsaw")
    ran = asyncio.Event()

    async def job() -> None:
        ran.set()

    scheduler.add_job(job)
    scheduler.start()
    try:
        await asyncio.wait_for(ran.wait(), timeout=10)
    finally:
        scheduler.shutdown(wait=False)
    assert str(scheduler.timezone) == "Europe/Warsaw"
