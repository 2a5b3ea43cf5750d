"""/start and /help: what Vyraj is and what it can do."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.common.menu import MenuCallback, main_menu_keyboard
from handlers.common.replies import edit_or_send


def welcome_text() -> str:
    return _(
        "👋 Hello! I am <b>Vyraj</b>, a bot for the Belarusian IT diaspora.\n\n"
        "I keep no names or Telegram ids: see /privacy.\n\n"
        "Choose what you need below, or send /help."
    )


def help_text() -> str:
    return _(
        "<b>What I understand</b>\n\n"
        "/start: the main menu\n"
        "/relocate: the relocation guide: Poland, Georgia, Lithuania, Uzbekistan and more\n"
        "/ask: ask a question, or just write it to me in a private chat\n"
        "/survey: the anonymous relocation survey\n"
        "/stats: the survey's figures so far\n"
        "/notify: tell me when a new survey wave opens\n"
        "/forget: delete everything I keep that can be linked to you\n"
        "/lang: choose the language (беларуская, русский, English)\n"
        "/privacy: what I store and what I never store\n"
        "/cancel: leave any dialogue\n"
        "/help: this message\n\n"
        "In groups, address commands to me, for example /help@{bot}."
    )


async def start(message: Message) -> None:
    await message.answer(welcome_text(), reply_markup=main_menu_keyboard())


async def help_for(bot: Bot | None) -> str:
    """The help text, with this bot's username in the group example."""
    me = await bot.me() if bot else None
    return help_text().format(bot=me.username if me and me.username else "bot")


async def show_help(message: Message) -> None:
    await message.answer(await help_for(message.bot))


async def help_from_menu(query: CallbackQuery) -> None:
    await edit_or_send(query, await help_for(query.bot), main_menu_keyboard())


def create_router() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart())
    router.message.register(show_help, Command("help"))
    router.callback_query.register(help_from_menu, MenuCallback.filter(F.action == "help"))
    return router
