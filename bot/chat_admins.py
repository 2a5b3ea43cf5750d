"""Who may run polls in a chat: the bot's admins anywhere, a chat's own administrators there.
getChatMember answers are cached for at most five minutes, or until a chat_member update says
the person's status changed; a failed call is never cached."""

from __future__ import annotations

import time

from aiogram import Bot
from aiogram.exceptions import ClientDecodeError, TelegramAPIError
from aiogram.filters import IS_ADMIN

CACHE_SECONDS = 300


class ChatAdminCache:
    def __init__(self, admin_ids: frozenset[int], ttl: float = CACHE_SECONDS) -> None:
        self._admin_ids = admin_ids
        self._ttl = ttl
        self._answers: dict[tuple[int, int], tuple[float, bool]] = {}

    async def may_run_polls(self, bot: Bot, chat_id: int, user_id: int) -> bool:
        if user_id in self._admin_ids:
            return True
        return await self.is_chat_admin(bot, chat_id, user_id)

    async def is_chat_admin(self, bot: Bot, chat_id: int, user_id: int) -> bool:
        key = (chat_id, user_id)
        cached = self._answers.get(key)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        try:
            member = await bot.get_chat_member(chat_id, user_id)
            allowed = IS_ADMIN.check(member=member)
        except (TelegramAPIError, ClientDecodeError):
            return False  # not an answer: asked again next time
        if len(self._answers) > 10_000:
            self._answers.clear()
        self._answers[key] = (now, allowed)
        return allowed

    def forget(self, chat_id: int, user_id: int) -> None:
        """Their status in the chat changed (a demotion, say): ask Telegram again next time."""
        self._answers.pop((chat_id, user_id), None)
