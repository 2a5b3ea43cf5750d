"""/start and /help: what Vyraj is and what it can do."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, Chat, Message
from aiogram.utils.i18n import gettext as _

from bot.chat_admins import ChatAdminCache
from handlers.common.menu import MenuCallback, main_menu_keyboard
from handlers.common.replies import edit_or_send
from services.policy import Policy


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
        "In a group, reply /ask to someone's message and I answer their question\n"
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


def bot_admin_help_text() -> str:
    return _(
        "<b>For the bot's admins</b>\n\n"
        "/wave open LABEL, /wave close, /wave: open, close and list survey waves\n"
        "/stats full: every table of the current wave, the trend and a CSV\n"
        "/digest preview, /digest now: the digest privately; post it now\n"
        "/unanswered: the questions the guide could not answer\n"
        "/kbstats: views, 👍 and 👎 per article\n"
        "/kbnotes: readers' reports of outdated articles (/kbnotes clear ID once fixed)\n"
        "/kbreload: re-read the guide's articles without a restart"
    )


def poll_admin_help_text() -> str:
    return _(
        "<b>For administrators of groups and channels</b>\n\n"
        "/poll Question? | Option 1 | Option 2: a poll in this chat (/poll alone explains "
        "the rest)\n"
        "/polls: this chat's polls\n"
        "/closepoll: close one (or reply /closepoll to it)\n"
        "/newpoll in a private chat with me: a step-by-step dialogue"
    )


def help_view(username: str, bot_admin: bool, chat_admin: bool) -> str:
    """The help text; the admin sections only for those they are meant for."""
    parts = [help_text().format(bot=username or "bot")]
    if bot_admin or chat_admin:
        parts.append(poll_admin_help_text())
    if bot_admin:
        parts.append(bot_admin_help_text())
    return "\n\n".join(parts)


async def help_for(
    bot: Bot, chat: Chat, user_id: int, policy: Policy, chat_admins: ChatAdminCache
) -> str:
    """The help text for this person here: a chat's administrators see the polls section in
    their chat, the bot's admins everything."""
    bot_admin = user_id in policy.admin_ids
    chat_admin = chat.type != ChatType.PRIVATE and (
        user_id == chat.id or await chat_admins.is_chat_admin(bot, chat.id, user_id)
    )
    return help_view((await bot.me()).username or "", bot_admin, chat_admin)


async def start(message: Message) -> None:
    await message.answer(welcome_text(), reply_markup=main_menu_keyboard())


async def show_help(
    message: Message, bot: Bot, policy: Policy, chat_admins: ChatAdminCache
) -> None:
    # An anonymous group admin writes as the chat itself.
    sender = message.sender_chat or message.from_user
    user_id = sender.id if sender is not None else 0
    await message.answer(await help_for(bot, message.chat, user_id, policy, chat_admins))


async def help_from_menu(
    query: CallbackQuery, bot: Bot, policy: Policy, chat_admins: ChatAdminCache
) -> None:
    message = query.message
    if message is None:
        return
    text = await help_for(bot, message.chat, query.from_user.id, policy, chat_admins)
    await edit_or_send(query, text, main_menu_keyboard())


def create_router() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart())
    router.message.register(show_help, Command("help"))
    router.callback_query.register(help_from_menu, MenuCallback.filter(F.action == "help"))
    return router
