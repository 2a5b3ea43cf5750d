"""Small reply helpers shared by the feature routers."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _


def out_of_date() -> str:
    """The one answer to a button that is stale, pressed twice or forged."""
    return _("This button is no longer valid. Send /start for a fresh menu.")


async def edit_or_send(
    query: CallbackQuery, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> None:
    """Show `text` in the message whose button was pressed; send anew if it can't be edited."""
    message = query.message
    if isinstance(message, Message):
        try:
            await message.edit_text(text, reply_markup=keyboard)
            return
        except TelegramBadRequest as exc:
            if "message is not modified" in exc.message:
                return
    if message is not None and query.bot is not None:
        await query.bot.send_message(message.chat.id, text, reply_markup=keyboard)
