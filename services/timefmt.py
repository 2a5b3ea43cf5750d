"""Times as people read them: in TIMEZONE, with the zone named, wherever the bot shows one."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def local_time(moment: dt.datetime, zone: ZoneInfo) -> str:
    """E.g. "2026-12-01 18:00 (Europe/Minsk)"; a naive moment is taken as UTC (as stored)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return f"{aware.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"
