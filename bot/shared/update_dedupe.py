"""Telegram may deliver an update again (a slow reply, a retried webhook): across instances,
only the first delivery of each update_id is handled."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from redis.asyncio import Redis

logger = logging.getLogger(__name__)

# Telegram keeps an undelivered update for 24 hours, so a repeat can come that late.
SEEN_FOR_SECONDS = 24 * 3600


class FirstDeliveryOnlyMiddleware(BaseMiddleware):
    """Claims each update_id with SET NX EX; a repeat finds the claim and is dropped, so an
    update is handled at most once. An update_id names no one, so it is stored as it is."""

    def __init__(self, redis: Redis, seen_for: int = SEEN_FOR_SECONDS) -> None:
        self._redis = redis
        self._seen_for = seen_for

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        key = f"vyraj:update:{event.update_id}"
        if not await self._redis.set(key, b"1", nx=True, ex=self._seen_for):
            logger.debug("Update %d was handled already", event.update_id)
            return None
        # Kept even when handling fails: a reply may have gone out, and one instance does
        # not handle a failed update twice either.
        return await handler(event, data)
