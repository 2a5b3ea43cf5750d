"""Bot API calls without files sent as one JSON body, as the Bot API accepts them.

aiogram sends every call as a form: the text is URL-encoded byte by byte in Python, and each
form makes a multipart writer with a fresh random boundary; for a guide article that was a
quarter of sending it. Calls with files still go as aiogram's multipart form. A keyboard built
once and shown to many (`SharedKeyboard`) carries its JSON form with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile
from aiohttp import ClientError, ClientTimeout

from bot.keyboards import SharedKeyboard

if TYPE_CHECKING:
    from aiogram import Bot

JSON_HEADERS = {"Content-Type": "application/json"}


class JsonBodySession(AiohttpSession):
    """An aiohttp session that posts file-less calls as JSON."""

    def json_body(self, bot: Bot, method: TelegramMethod[TelegramType]) -> str | None:
        """The call's parameters as JSON, the same ones aiogram's form holds; None when the
        call sends a file."""
        files: dict[str, InputFile] = {}
        params: dict[str, Any] = {}
        markup = getattr(method, "reply_markup", None)
        if not isinstance(markup, SharedKeyboard):
            markup = None
        exclude = None if markup is None else {"reply_markup"}
        # aiogram drops None values anyway; leaving them out of the dump is cheaper.
        dumped = method.model_dump(warnings=False, exclude=exclude, exclude_none=True)
        for key, value in dumped.items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            # aiogram's form leaves out what prepares to None or "" (False goes as "false").
            if prepared is not None and prepared != "":
                params[key] = prepared
        if markup is not None:  # prepared once, not button by button on every call
            params["reply_markup"] = markup.wire_form()
        return None if files else self.json_dumps(params)

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
