"""Census refresh claims over Redis: one instance per poll per window redraws the counts."""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# The key goes this much before the holder wakes to recount, whatever the two clocks' ticks.
MARGIN_MS = 10


class RedisRefreshClaims:
    """A key per poll that lives for one window (SET NX PX). The holder recounts only after
    the window, that is after the key has expired; so a vote that found the key taken was
    committed before that recount, which shows it."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def claim(self, poll_id: int, seconds: float) -> bool:
        window_ms = max(1, round(seconds * 1000) - MARGIN_MS)
        key = f"vyraj:census-refresh:{poll_id}"
        try:
            return bool(await self._redis.set(key, b"1", nx=True, px=window_ms))
        except RedisError as exc:  # a redraw too many beats counts left behind
            logger.warning("Census refresh claim failed, refreshing anyway: %s", exc)
            return True
