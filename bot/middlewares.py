"""Outer middlewares: drop what the bot must never act on; track updates in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject, User

# Telegram's sender of the messages an admin posts anonymously, as the group itself.
GROUP_ANONYMOUS_BOT_ID = 1087968824


class IgnoreBotsMiddleware(BaseMiddleware):
    """Other bots (and the bot itself) never get an answer: no loops between bots. An
    anonymous admin, who writes as the group itself, is a person and gets through."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is not None and user.is_bot and not _is_anonymous_admin(event, user):
            return None
        return await handler(event, data)


def _is_anonymous_admin(event: TelegramObject, user: User) -> bool:
    return (
        user.id == GROUP_ANONYMOUS_BOT_ID
        and isinstance(event, Message)
        and event.sender_chat is not None
        and event.sender_chat.id == event.chat.id
    )


class InFlightTracker(BaseMiddleware):
    """Counts updates being handled, so shutdown can wait for them to finish."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        self._count += 1
        self._idle.clear()
        try:
            return await handler(event, data)
        finally:
            self._count -= 1
            if self._count == 0:
                self._idle.set()

    @property
    def in_flight(self) -> int:
        return self._count

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until no update is being handled; False if `timeout` passed first."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True
