"""/forget, /notify and /survey sent in a group: a button that opens that dialogue in a
private chat (a `t.me/<bot>?start=<command>` deep link), so nothing personal is said here."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.keyboards import inline_keyboard, url_button

# The commands that are answered only in a private chat; each is also a deep-link payload.
PRIVATE_COMMANDS = ("forget", "notify", "survey")


def deep_link_view(command: str, username: str) -> tuple[str, InlineKeyboardMarkup]:
    """The group reply: why not here, and a button to the same dialogue in private."""
    texts = {
        "forget": (
            _("Deleting your data is done in a private chat with me, not here."),
            _("🗑 Open /forget privately"),
        ),
        "notify": (
            _("Survey notifications are set in a private chat with me."),
            _("🔔 Open /notify privately"),
        ),
        "survey": (
            _("The survey is answered in a private chat with me, so nobody here sees it."),
            _("📋 Take the survey privately"),
        ),
    }
    text, label = texts[command]
    return text, inline_keyboard([url_button(label, f"https://t.me/{username}?start={command}")])


async def private_command_in_group(message: Message, command: CommandObject, bot: Bot) -> None:
    username = (await bot.me()).username or ""
    text, keyboard = deep_link_view(command.command.lower(), username)
    await message.reply(text, reply_markup=keyboard)


def create_router() -> Router:
    router = Router(name="private_only")
    router.message.register(
        private_command_in_group, Command(*PRIVATE_COMMANDS), F.chat.type != ChatType.PRIVATE
    )
    return router
