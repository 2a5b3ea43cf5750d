"""Editing a message in place without reading back the message Telegram returns.

editMessageText answers with the whole edited message, its keyboard included; aiogram builds
a Message from it, button by button, which on a survey press cost as much as building and
sending the call. A press's handler never looks at it, so here it stays the plain JSON.
"""

from __future__ import annotations

from typing import Any, ClassVar

from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import EditMessageText
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message


class EditMessageTextUnread(EditMessageText):
    """aiogram's EditMessageText, with the edited message left as the plain JSON it came in
    (errors are raised as for any call)."""

    __returning__: ClassVar[Any] = Any


async def edit_in_place(
    query: CallbackQuery, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> None:
    """Show `text` in the message whose button was pressed; send anew if it can't be edited
    (what handlers.common.replies.edit_or_send does, without reading the edit's answer)."""
    message = query.message
    bot = query.bot
    if bot is None or message is None:
        return
    if isinstance(message, Message):
        edit = EditMessageTextUnread(
            chat_id=message.chat.id,
            message_id=message.message_id,
            business_connection_id=message.business_connection_id,
            text=text,
            reply_markup=keyboard,
        )
        try:
            await bot(edit)
            return
        except TelegramBadRequest as exc:
            if "message is not modified" in exc.message:
                return
    await bot.send_message(message.chat.id, text, reply_markup=keyboard)
