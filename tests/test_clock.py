"""The clock: UTC inside, the date people see in TIMEZONE, and no naive instants."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from services.clock import ManualClock, SystemClock

WARSAW = ZoneInfo("Europe/Warsaw")


def test_the_date_is_the_one_in_the_time_zone() -> None:
    clock = ManualClock(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC))
    assert clock.now().tzinfo is dt.UTC
    assert clock.today(WARSAW) == dt.date(2027, 1, 1)
    assert clock.local_now(WARSAW).hour == 0
    clock.advance(dt.timedelta(hours=1))
    assert clock.now() == dt.datetime(2027, 1, 1, 0, 30, tzinfo=dt.UTC)


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        ManualClock(dt.datetime(2026, 11, 24, 12, 0))


def test_the_system_clock_tells_aware_utc() -> None:
    assert SystemClock().now().utcoffset() == dt.timedelta(0)
