"""Small reply helpers shared by the feature routers."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message


async def edit_or_send(
    query: CallbackQuery, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> None:
    """Show `text` in the message whose button was pressed; send anew if it can't be edited."""
    await query.answer()
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
