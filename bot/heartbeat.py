"""Refreshes the heartbeat file beside the database after successful Bot API calls."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods.base import TelegramType

from bot.health import TOUCH_INTERVAL_SECONDS

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod


class HeartbeatMiddleware(BaseRequestMiddleware):
    """Touches the heartbeat file after a successful Bot API call, at most every 30 s."""

    def __init__(self, path: Path, interval: float = TOUCH_INTERVAL_SECONDS) -> None:
        self._path = path
        self._interval = interval
        self._touched_at: float | None = None

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        response = await make_request(bot, method)  # raises when the call failed
        now = time.monotonic()
        if self._touched_at is None or now - self._touched_at >= self._interval:
            self._touched_at = now
            # A heartbeat that cannot be written shows up as unhealthy; the call itself succeeded.
            with contextlib.suppress(OSError):
                self._path.touch()
        return response
