"""The settings handlers act on, as one typed object handed to them by the dispatcher."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Policy:
    """Who the bot's admins are, what may be published, when guide articles go stale, and
    the time zone that dates things."""

    admin_ids: frozenset[int]
    min_cell_size: int
    kb_stale_days: int
    timezone: ZoneInfo
