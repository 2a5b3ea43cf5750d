"""Small reply helpers shared by the feature routers."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.unread import call_unread


def out_of_date() -> str:
    """The one answer to a button that is stale, pressed twice or forged."""
    return _("This button is no longer valid. Send /start for a fresh menu.")


async def edit_or_send(
    query: CallbackQuery, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> None:
    """Show `text` in the message whose button was pressed; send anew if it can't be edited.
    The edit is aiogram's `message.edit_text`, its answer (the edited message) left unread."""
    message = query.message
    bot = query.bot
    if bot is None or message is None:
        return
    if isinstance(message, Message):
        try:
            await call_unread(message.edit_text(text, reply_markup=keyboard))
            return
        except TelegramBadRequest as exc:
            if "message is not modified" in exc.message:
                return
    await bot.send_message(message.chat.id, text, reply_markup=keyboard)
