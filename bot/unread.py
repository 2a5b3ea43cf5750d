"""Bot API calls whose answer nobody reads, made without turning it into aiogram objects.

Telegram answers a sent or edited message with the whole message, its keyboard included, and
aiogram builds a Message from it button by button: on a survey press that cost as much as
building and sending the call. Where a handler ignores it, it stays the plain JSON here.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from aiogram.methods import TelegramMethod

Method = TypeVar("Method", bound=TelegramMethod[Any])

_unread_classes: dict[type[TelegramMethod[Any]], type[TelegramMethod[Any]]] = {}


def unread_class(method: type[Method]) -> type[Method]:
    """aiogram's `method` with its answer left as the plain JSON it came in (errors are raised
    as for any call), made once per method. Its calls' typed results are not to be used."""
    made = _unread_classes.get(method)
    if made is None:
        made = type(
            f"{method.__name__}Unread", (method,), {"__returning__": Any, "__module__": __name__}
        )
        _unread_classes[method] = made
    return cast(type[Method], made)


async def call_unread(method: TelegramMethod[Any]) -> None:
    """Make the call that aiogram's shortcut (`message.answer(...)`, `message.reply(...)`)
    built, with the same parameters, without reading its answer."""
    bot = method.bot
    if bot is None:
        raise RuntimeError(f"{type(method).__name__} is not bound to a bot")
    unread = unread_class(type(method)).model_construct(
        _fields_set=method.model_fields_set, **dict(method)
    )
    await bot(unread)
