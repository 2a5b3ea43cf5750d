"""The one clock the bot reads: the system's in production, a manual one in tests.
Handlers and services take it as a dependency instead of asking the system."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from zoneinfo import ZoneInfo


class Clock(ABC):
    """Tells the current instant; the zone-local helpers are derived from `now`."""

    @abstractmethod
    def now(self) -> dt.datetime:
        """The current instant, aware, in UTC."""

    def local_now(self, zone: ZoneInfo) -> dt.datetime:
        return self.now().astimezone(zone)

    def today(self, zone: ZoneInfo) -> dt.date:
        """The calendar date in `zone` (TIMEZONE), which is what people see."""
        return self.local_now(zone).date()


class SystemClock(Clock):
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class ManualClock(Clock):
    """Stands still at a set instant until moved: for tests."""

    def __init__(self, instant: dt.datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        self._now = instant.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, delta: dt.timedelta) -> None:
        self._now += delta
