"""Everything no feature claimed: polite answers in private chats, silence in groups."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from handlers.common.replies import out_of_date


def _addressed_to(text: str, username: str | None) -> bool:
    """`/cmd@bot` names this bot; a bare `/cmd` in a group might be meant for another bot."""
    command = text.split(maxsplit=1)[0] if text.strip() else ""
    mention = command.partition("@")[2]
    return bool(username) and mention.lower() == (username or "").lower()


async def unknown_command_private(message: Message) -> None:
    await message.answer(_("I don't know this command. Send /help to see what I understand."))


async def unknown_command_group(message: Message) -> None:
    me = await message.bot.me() if message.bot else None
    if me is not None and _addressed_to(message.text or "", me.username):
        await message.reply(_("I don't know this command. Send /help to see what I understand."))


async def text_in_a_dialogue(message: Message) -> None:
    await message.answer(_("Please answer with the buttons above, or send /cancel to stop."))


async def not_text_private(message: Message) -> None:
    await message.answer(_("I understand only text messages and buttons. Send /help."))


async def stale_button(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    callback_answer.text = out_of_date()


def create_router() -> Router:
    router = Router(name="fallback")
    router.message.register(
        unknown_command_private, F.chat.type == ChatType.PRIVATE, F.text.startswith("/")
    )
    router.message.register(
        unknown_command_group, F.chat.type != ChatType.PRIVATE, F.text.startswith("/")
    )
    # Text while a dialogue waits for a button (the survey, say): point at the buttons.
    router.message.register(
        text_in_a_dialogue, F.chat.type == ChatType.PRIVATE, F.text, ~StateFilter(None)
    )
    router.message.register(not_text_private, F.chat.type == ChatType.PRIVATE, ~F.text)
    router.callback_query.register(stale_button)
    return router
