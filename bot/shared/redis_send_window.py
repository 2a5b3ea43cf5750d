"""The send limit over Redis: every instance together sends at most `rate` in any second."""

from __future__ import annotations

import asyncio
import collections
import logging
import uuid

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# A place is held this long at most, should its instance die before the send's reply.
HOLD_MS = 30_000
# How often a sender looks again while every place is held by a send still under way.
RECHECK_SECONDS = 0.05

# KEYS: places (a sorted set: token -> when it leaves, in ms), last start (ms).
# ARGV: rate, gap between starts (ms), hold (ms), token. Returns 0 with a place taken,
# or how many ms to wait before asking again. Redis's clock is the one clock of every sender.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, gap, hold = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local wait = 0
local last = redis.call('GET', KEYS[2])
if last then wait = tonumber(last) + gap - now end
if redis.call('ZCARD', KEYS[1]) >= rate then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  wait = math.max(wait, tonumber(first[2]) - now)
end
if wait > 0 then return wait end
redis.call('ZADD', KEYS[1], now + hold, ARGV[4])
redis.call('PEXPIRE', KEYS[1], hold + 1000)
redis.call('SET', KEYS[2], now, 'PX', 1000)
return 0
"""
# KEYS: places. ARGV: token. The place is kept for one second after the send's reply.
_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now + 1000, ARGV[1])
return 0
"""


class RedisSendWindow:
    """SendWindow's rule over Redis: each send holds a place from its start until one second
    after its reply, starts are 1/rate apart, and every instance counts against one total."""

    def __init__(self, redis: Redis, rate: int, name: str = "vyraj:send-window") -> None:
        self._redis = redis
        self._rate = rate
        self._keys = [f"{name}:places", f"{name}:last-start"]
        self._acquire = redis.register_script(_ACQUIRE)
        self._release = redis.register_script(_RELEASE)
        self._prefix = uuid.uuid4().hex
        self._held: collections.deque[str] = collections.deque()
        self._count = 0

    async def acquire(self) -> None:
        self._count += 1
        token = f"{self._prefix}:{self._count}"
        gap_ms = 1000 // self._rate
        while wait_ms := int(
            await self._acquire(keys=self._keys, args=[self._rate, gap_ms, HOLD_MS, token])
        ):
            await asyncio.sleep(min(wait_ms / 1000, RECHECK_SECONDS))
        self._held.append(token)

    async def release(self) -> None:
        # Any place this sender holds will do: each is held until a second after a reply.
        token = self._held.popleft()
        try:
            await self._release(keys=self._keys[:1], args=[token])
        except RedisError as exc:  # the place then frees itself after HOLD_MS
            logger.warning("A send's place could not be given back: %s", exc)
