"""Bot API calls without files sent as one JSON body, as the Bot API accepts them.

aiogram sends every call as a form: the text is URL-encoded byte by byte in Python, and each
form makes a multipart writer with a fresh random boundary; for a guide article that was a
quarter of sending it. Calls with files still go as aiogram's multipart form. A keyboard made
once and shown to many (`shared_markup`) is turned into JSON once.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, TypeVar, cast

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InlineKeyboardMarkup, InputFile
from aiohttp import ClientError, ClientTimeout

if TYPE_CHECKING:
    from aiogram import Bot

JSON_HEADERS = {"Content-Type": "application/json"}
Markup = TypeVar("Markup", bound=InlineKeyboardMarkup)

# Shared keyboards by identity: a weak reference, and the keyboard's prepared form once sent.
_shared_markups: dict[int, tuple[weakref.ref[InlineKeyboardMarkup], Any]] = {}


def shared_markup(markup: Markup) -> Markup:
    """Mark `markup` as made once, shown to many and never changed (a cached menu): its JSON
    form is then prepared at its first send only, and forgotten with it."""
    key = id(markup)
    # Called when the keyboard is freed, before its id can be anyone else's.
    _shared_markups[key] = (weakref.ref(markup, lambda _: _shared_markups.pop(key, None)), None)
    return markup


class JsonBodySession(AiohttpSession):
    """An aiohttp session that posts file-less calls as JSON."""

    def json_body(self, bot: Bot, method: TelegramMethod[TelegramType]) -> str | None:
        """The call's parameters as JSON, the same ones aiogram's form holds; None when the
        call sends a file."""
        files: dict[str, InputFile] = {}
        markup = getattr(method, "reply_markup", None)
        shared = _shared_markups.get(id(markup)) if markup is not None else None
        kept = shared[0]() if shared is not None else None
        if shared is None or kept is None or kept is not markup:
            dumped = method.model_dump(warnings=False, exclude_none=True)
            params = self._prepared(dumped, bot, files)
        else:
            dumped = method.model_dump(warnings=False, exclude_none=True, exclude={"reply_markup"})
            params = self._prepared(dumped, bot, files)
            params["reply_markup"] = self._prepared_markup(markup, shared[1], bot)
        return None if files else self.json_dumps(params)

    def _prepared(
        self, dumped: dict[str, Any], bot: Bot, files: dict[str, InputFile]
    ) -> dict[str, Any]:
        params = {}
        for key, value in dumped.items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            # aiogram's form leaves out what prepares to None or "" (False goes as "false").
            if prepared is not None and prepared != "":
                params[key] = prepared
        return params

    def _prepared_markup(self, markup: InlineKeyboardMarkup, prepared: Any, bot: Bot) -> Any:
        if prepared is None:
            dumped = markup.model_dump(warnings=False, exclude_none=True)
            prepared = self.prepare_value(dumped, bot=bot, files={}, _dumps_json=False)
            key = id(markup)
            _shared_markups[key] = (_shared_markups[key][0], prepared)
        return prepared

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        body = self.json_body(bot, method)
        if body is None:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        # The errors as aiogram's own make_request raises them.
        try:
            async with session.post(
                url,
                data=body.encode(),
                headers=JSON_HEADERS,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as resp:
                raw_result = await resp.text()
        except TimeoutError as e:
            raise TelegramNetworkError(method=method, message="Request timeout error") from e
        except ClientError as e:
            raise TelegramNetworkError(method=method, message=f"{type(e).__name__}: {e}") from e
        response = self.check_response(
            bot=bot, method=method, status_code=resp.status, content=raw_result
        )
        return cast(TelegramType, response.result)
