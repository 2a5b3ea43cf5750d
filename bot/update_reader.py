"""Reading updates that cannot all be parsed: one malformed update is skipped and counted, never
allowed to stop getUpdates for good, and its content is never logged."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import Update
from pydantic import ValidationError

if TYPE_CHECKING:
    from aiogram import Bot

logger = logging.getLogger(__name__)


class UpdateSkippingSession(AiohttpSession):
    """An aiohttp session whose getUpdates drops the updates aiogram cannot validate and
    confirms them with the next call's offset, so they are not fetched again."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.skipped_updates = 0
        self._skipped_up_to: int | None = None

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        if isinstance(method, GetUpdates) and self._skipped_up_to is not None:
            method.offset = max(method.offset or 0, self._skipped_up_to + 1)
        return await super().make_request(bot, method, timeout)

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        if isinstance(method, GetUpdates):
            content = self._without_unreadable(bot, content)
        return super().check_response(bot, method, status_code, content)

    def _without_unreadable(self, bot: Bot, content: str) -> str:
        try:
            reply = json.loads(content)
        except ValueError:
            return content  # not JSON at all: aiogram reports it as any other call
        updates = reply.get("result") if isinstance(reply, dict) else None
        if not isinstance(updates, list):
            return content
        readable = [update for update in updates if self._readable(bot, update)]
        if len(readable) == len(updates):
            return content
        return json.dumps({**reply, "result": readable})

    def _readable(self, bot: Bot, update: object) -> bool:
        try:
            Update.model_validate(update, context={"bot": bot})
        except ValidationError:
            pass
        else:
            return True
        update_id = update.get("update_id") if isinstance(update, dict) else None
        if isinstance(update_id, int):
            self._skipped_up_to = max(self._skipped_up_to or 0, update_id)
        self.skipped_updates += 1
        # The update's content may be anyone's message: only its number is logged.
        logger.warning(
            "Skipped update %s: it could not be read (%d skipped so far)",
            update_id if isinstance(update_id, int) else "without an id",
            self.skipped_updates,
        )
        return False
