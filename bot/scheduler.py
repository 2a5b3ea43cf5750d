"""Timed jobs on APScheduler's AsyncIOScheduler: closing polls at their close time, the
digest on its cron schedule, and the sweep for work another instance left.

The jobs live in memory, one scheduler per instance (APScheduler cannot share a job store
between processes); each job's effect is a claim in the database, so several instances do it
once. The close times live in the polls table: at start every open poll with a close time gets
its job back, one whose time passed while the bot was down is closed at once, and the sweep
closes any due poll whoever scheduled it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.asyncio_scheduler import asyncio_scheduler
from services.clock import Clock, SystemClock
from storage import Storage

logger = logging.getLogger(__name__)

PollCloser = Callable[[int], Awaitable[object]]
# APScheduler itself runs on real time, whatever clock the bot reads.
APSCHEDULER_TIME = SystemClock()
BACKUP_TIME = dt.time(3, 30)
# How often every instance looks for due polls and an unfinished new-wave broadcast.
SWEEP_INTERVAL = dt.timedelta(seconds=30)


class Scheduler:
    def __init__(self, timezone: str, clock: Clock) -> None:
        self._scheduler = asyncio_scheduler(timezone)
        self._clock = clock
        self._close_poll: PollCloser | None = None
        self._shut_down = False

    def set_poll_closer(self, close_poll: PollCloser) -> None:
        self._close_poll = close_poll

    def start(self) -> None:
        if not self._scheduler.running:
            self._shut_down = False
            self._scheduler.start()

    def shutdown(self) -> None:
        # AsyncIOScheduler defers its shutdown to the next loop turn and stays `running` until
        # then: a second call before that would queue a second shutdown that raises.
        if self._scheduler.running and not self._shut_down:
            self._shut_down = True
            self._scheduler.shutdown(wait=False)

    def next_run(self, job_id: str) -> dt.datetime | None:
        """When the job (`digest`, `poll-close-<id>`) runs next, by real time; None if never."""
        job = self._scheduler.get_job(job_id)
        return None if job is None else job.next_run_time

    def schedule_close(self, poll_id: int, when: dt.datetime) -> None:
        """Close the poll at `when` by the clock (now, if that has passed)."""
        # APScheduler gets the wait that the bot's clock says is left.
        wait = max(when - self._clock.now(), dt.timedelta(0))
        self._scheduler.add_job(
            self._run_close,
            DateTrigger(run_date=APSCHEDULER_TIME.now() + wait),
            args=(poll_id,),
            id=f"poll-close-{poll_id}",
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
        )

    def schedule_digest(
        self, trigger: BaseTrigger, run: Callable[[], Awaitable[object]], grace: dt.timedelta
    ) -> None:
        """Run the digest job on its cron trigger (a late start within `grace` still runs)."""
        self._scheduler.add_job(
            run,
            trigger,
            id="digest",
            replace_existing=True,
            misfire_grace_time=int(grace.total_seconds()) or None,
            coalesce=True,
            max_instances=1,
        )

    def schedule_sweep(self, run: Callable[[], Awaitable[object]]) -> None:
        """Run `run` every SWEEP_INTERVAL (a sweep still under way skips the next)."""
        self._scheduler.add_job(
            run,
            IntervalTrigger(seconds=SWEEP_INTERVAL.total_seconds()),
            id="sweep",
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
        )

    def schedule_daily_backup(self, run: Callable[[], Awaitable[object]]) -> None:
        """Run the backup job every day at BACKUP_TIME in TIMEZONE, when the bot is quiet."""
        self._scheduler.add_job(
            run,
            CronTrigger(hour=BACKUP_TIME.hour, minute=BACKUP_TIME.minute),
            id="daily-backup",
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
        )

    async def restore_poll_closes(self, storage: Storage) -> int:
        """Give every open poll with a close time its job back; returns how many."""
        count = 0
        for poll in await storage.polls.open_polls():
            if poll.close_at is not None:
                self.schedule_close(poll.id, poll.close_at)
                count += 1
        return count

    async def _run_close(self, poll_id: int) -> None:
        if self._close_poll is None:
            return
        try:
            await self._close_poll(poll_id)
        except Exception:
            logger.exception("Closing poll %d failed", poll_id)
