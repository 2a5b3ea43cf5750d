"""Questions answered from the guide: free text in private chats, `/ask` anywhere, and in groups
a reply to one of the bot's messages or a message that mentions the bot."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.keyboards import callback_button, inline_keyboard
from handlers.common.menu import MenuCallback
from handlers.guide.relocate import BrowseCallback, article_view
from services.clock import Clock
from services.knowledge.library import KnowledgeLibrary
from services.knowledge.question_terms import question_terms
from services.knowledge.search import answer_question
from services.policy import Policy
from storage import Storage


async def answer(
    message: Message,
    question: str,
    library: KnowledgeLibrary,
    storage: Storage,
    i18n: I18n,
    kb_stale_days: int,
    today: dt.date,
) -> None:
    """Reply with the article, a choice of up to three, or an honest "not found"."""
    knowledge = library.base
    language = i18n.current_locale
    result = answer_question(library.index, question)
    if result.article_id is not None:
        view = article_view(knowledge, result.article_id, language, kb_stale_days, today)
        if view is not None:
            async with storage.transaction() as tx:
                await tx.knowledge_stats.record_view(result.article_id)
            await message.reply(view[0], reply_markup=view[1])
            return
    if result.candidates:
        choices = [
            callback_button(article.title, BrowseCallback(view="article", key=article_id))
            for article_id in result.candidates
            if (article := knowledge.get(article_id, language)) is not None
        ]
        await message.reply(
            _("Which of these did you mean?"), reply_markup=inline_keyboard(choices, 1)
        )
        return
    # Only the search terms, nothing personal: no user, chat, time or message id goes with them.
    terms = question_terms(question, library.index.vocabulary)
    if terms:
        async with storage.transaction() as tx:
            await tx.knowledge_stats.record_unanswered(terms)
    guide = callback_button(_("🧭 Relocation guide"), MenuCallback(action="relocate"))
    await message.reply(
        _(
            "I did not find an answer to that in my guide. Try other words, or browse the "
            "guide by country:"
        ),
        reply_markup=inline_keyboard([guide]),
    )


async def free_text(
    message: Message,
    library: KnowledgeLibrary,
    storage: Storage,
    i18n: I18n,
    policy: Policy,
    clock: Clock,
) -> None:
    await answer(
        message,
        message.text or "",
        library,
        storage,
        i18n,
        policy.kb_stale_days,
        clock.today(policy.timezone),
    )


async def ask_command(
    message: Message,
    command: CommandObject,
    library: KnowledgeLibrary,
    storage: Storage,
    i18n: I18n,
    policy: Policy,
    clock: Clock,
) -> None:
    if not command.args or not command.args.strip():
        await message.reply(
            _("Write your question after the command, for example: /ask karta pobytu")
        )
        return
    await answer(
        message,
        command.args,
        library,
        storage,
        i18n,
        policy.kb_stale_days,
        clock.today(policy.timezone),
    )


def question_addressed_to(text: str, username: str | None, *, replies_to_bot: bool) -> str | None:
    """The question in a group message meant for the bot, or None when it is chatter.

    A reply to one of the bot's messages is a question as it stands; a message that mentions
    `@username` is one with the mention taken out (it may then be empty).
    """
    if text.startswith("/"):
        return None
    if username:
        mention = re.compile(rf"@{re.escape(username)}\b", re.IGNORECASE)
        if mention.search(text):
            return " ".join(mention.sub(" ", text).split())
    if replies_to_bot:
        return text.strip()
    return None


async def addressed_to_bot(message: Message, bot: Bot) -> dict[str, Any] | bool:
    """Filter for group messages meant for the bot; passes the question on as `question`."""
    if not message.text:
        return False
    me = await bot.me()
    replied = message.reply_to_message
    replies_to_bot = bool(replied and replied.from_user and replied.from_user.id == me.id)
    question = question_addressed_to(message.text, me.username, replies_to_bot=replies_to_bot)
    return False if question is None else {"question": question}


async def group_question(
    message: Message,
    question: str,
    bot: Bot,
    library: KnowledgeLibrary,
    storage: Storage,
    i18n: I18n,
    policy: Policy,
    clock: Clock,
) -> None:
    if not question:
        username = (await bot.me()).username or ""
        await message.reply(
            _("Ask me a question in the same message, for example: @{bot} karta pobytu").format(
                bot=username
            )
        )
        return
    await answer(
        message,
        question,
        library,
        storage,
        i18n,
        policy.kb_stale_days,
        clock.today(policy.timezone),
    )


def create_router() -> Router:
    router = Router(name="ask")
    router.message.register(ask_command, Command("ask"))
    router.message.register(
        group_question,
        F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP}),
        addressed_to_bot,
    )
    # Text in the middle of a dialogue (a poll's question, say) belongs to that dialogue.
    router.message.register(
        free_text,
        F.chat.type == ChatType.PRIVATE,
        F.text,
        ~F.text.startswith("/"),
        StateFilter(None),
    )
    return router
