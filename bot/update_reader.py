"""Reading updates that cannot all be parsed: a malformed update is skipped and counted, never
allowed to stop the bot reading updates, and its content is never logged."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from aiogram.exceptions import ClientDecodeError
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError

from bot.json_session import JsonBodySession

if TYPE_CHECKING:
    from aiogram import Bot

logger = logging.getLogger(__name__)

# pydantic's cache of `Response[Message]` and its kin holds them weakly: once the garbage
# collector frees one, the class (its whole schema, ~4 ms) is built again. These keep them.
_response_types: dict[Any, Any] = {}


class UnreadableUpdates:
    """Tells readable updates from the rest, and counts and logs (by number only) the rest."""

    def __init__(self) -> None:
        self.skipped = 0
        self.last_skipped_id: int | None = None

    def readable(self, bot: Bot, update: object) -> bool:
        try:
            Update.model_validate(update, context={"bot": bot})
        except ValidationError:
            pass
        else:
            return True
        update_id = update.get("update_id") if isinstance(update, dict) else None
        if isinstance(update_id, int):
            self.last_skipped_id = max(self.last_skipped_id or 0, update_id)
        self.skipped += 1
        # The update's content may be anyone's message: only its number is logged.
        logger.warning(
            "Skipped update %s: it could not be read (%d skipped so far)",
            update_id if isinstance(update_id, int) else "without an id",
            self.skipped,
        )
        return False


class UpdateSkippingSession(JsonBodySession):
    """An aiohttp session whose getUpdates drops the updates aiogram cannot validate and
    confirms them with the next call's offset, so they are not fetched again."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.unreadable = UnreadableUpdates()

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        skipped_up_to = self.unreadable.last_skipped_id
        if isinstance(method, GetUpdates) and skipped_up_to is not None:
            method.offset = max(method.offset or 0, skipped_up_to + 1)
        return await super().make_request(bot, method, timeout)

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in _response_types:
            _response_types[returning] = Response[returning]  # type: ignore[valid-type]
        # A flag: narrowing `method` by isinstance would not type-check below.
        reading_updates = isinstance(method, GetUpdates)
        if reading_updates:
            # Each update is checked apart only when the batch fails: reading it twice
            # every time would cost as much again as aiogram's own parse.
            try:
                return super().check_response(bot, method, status_code, content)
            except ClientDecodeError:
                pass
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
        readable = [update for update in updates if self.unreadable.readable(bot, update)]
        if len(readable) == len(updates):
            return content
        return json.dumps({**reply, "result": readable})


class UpdateSkippingRequestHandler(SimpleRequestHandler):
    """The webhook's handler: a malformed update is acknowledged and skipped, not logged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unreadable = UnreadableUpdates()

    async def _background_feed_update(self, bot: Bot, update: dict[str, Any]) -> None:
        if self.unreadable.readable(bot, update):
            await super()._background_feed_update(bot, update)

    async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
        if not self.unreadable.readable(bot, await request.json(loads=bot.session.json_loads)):
            return web.Response()  # a 200: Telegram must not send it again
        return await super()._handle_request(bot, request)
