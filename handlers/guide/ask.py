"""Questions answered from the guide: free text in private chats, `/ask` anywhere, and in groups
a reply to one of the bot's messages or a message that mentions the bot. A bare `/ask` or
`@bot` in reply to someone else's message answers that message's question, quoted."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.types import InlineKeyboardMarkup, Message, ReplyParameters
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.keyboards import callback_button, inline_keyboard
from bot.unread import call_unread
from handlers.common.menu import MenuCallback
from handlers.guide.relocate import BrowseCallback, article_view
from services.clock import Clock
from services.knowledge.library import KnowledgeLibrary
from services.knowledge.question_terms import question_terms
from services.knowledge.search import answer_question
from services.knowledge.view_counts import ViewCounts
from services.policy import Policy

# A quoted excerpt is a reminder of the question, not a copy of it.
QUOTE_MAX = 100


async def answer(
    message: Message,
    question: str,
    library: KnowledgeLibrary,
    view_counts: ViewCounts,
    i18n: I18n,
    kb_stale_days: int,
    today: dt.date,
    *,
    replied: Message | None = None,
) -> None:
    """Reply with the article, a choice of up to three, or an honest "not found"; to
    `replied` (quoting it) when answering someone else's question."""

    async def reply(text: str, markup: InlineKeyboardMarkup) -> None:
        # Telegram's answer (the whole article message) is not read: nobody here uses it.
        if replied is None:
            await call_unread(message.reply(text, reply_markup=markup))
            return
        # `answer` keeps the forum topic of `message`; the reply lands under the question.
        await call_unread(
            message.answer(text, reply_markup=markup, reply_parameters=quoting(replied, question))
        )

    knowledge = library.base
    language = i18n.current_locale
    result = answer_question(library.index, question)
    if result.article_id is not None:
        view = article_view(knowledge, result.article_id, language, kb_stale_days, today)
        if view is not None:
            view_counts.add(result.article_id)
            await reply(*view)
            return
    if result.candidates:
        choices = [
            callback_button(article.title, BrowseCallback(view="article", key=article_id))
            for article_id in result.candidates
            if (article := knowledge.get(article_id, language)) is not None
        ]
        await reply(_("Which of these did you mean?"), inline_keyboard(choices, 1))
        return
    # Only the search terms, nothing personal: no user, chat, time or message id goes with them.
    terms = question_terms(question, library.index.vocabulary)
    if terms:
        view_counts.add_unanswered(terms)
    guide = callback_button(_("🧭 Relocation guide"), MenuCallback(action="relocate"))
    await reply(
        _(
            "I did not find an answer to that in my guide. Try other words, or browse the "
            "guide by country:"
        ),
        inline_keyboard([guide]),
    )


def quoting(replied: Message, question: str) -> ReplyParameters:
    """Reply parameters that put the answer under `replied`, quoting the start of `question`
    when it is the message's own text (Telegram refuses a quote that is not)."""
    excerpt = quote_excerpt(question)
    shown = replied.text or replied.caption or ""
    return ReplyParameters(
        message_id=replied.message_id,
        # Quotes are parsed like the message: HTML by default.
        quote=html.escape(excerpt) if excerpt and excerpt in shown else None,
        allow_sending_without_reply=True,
    )


def quote_excerpt(text: str) -> str:
    """The start of `text` to quote: its first line, cut at a word within QUOTE_MAX characters;
    always an exact part of `text`."""
    first_line = text.strip().split("\n", 1)[0].strip()
    if len(first_line) <= QUOTE_MAX:
        return first_line
    cut = first_line[: QUOTE_MAX + 1]
    spaces = [i for i, char in enumerate(cut) if char.isspace()]
    return first_line[: spaces[-1] if spaces else QUOTE_MAX].rstrip()


async def free_text(
    message: Message,
    library: KnowledgeLibrary,
    view_counts: ViewCounts,
    i18n: I18n,
    policy: Policy,
    clock: Clock,
) -> None:
    await answer(
        message,
        message.text or "",
        library,
        view_counts,
        i18n,
        policy.kb_stale_days,
        clock.today(policy.timezone),
    )


async def ask_command(
    message: Message,
    command: CommandObject,
    bot: Bot,
    library: KnowledgeLibrary,
    view_counts: ViewCounts,
    i18n: I18n,
    policy: Policy,
    clock: Clock,
) -> None:
    if not command.args or not command.args.strip():
        replied = someone_elses_message(message, (await bot.me()).id)
        if replied is not None:
            await answer_replied(message, replied, library, view_counts, i18n, policy, clock)
            return
        await message.reply(
            _("Write your question after the command, for example: /ask karta pobytu")
        )
        return
    await answer(
        message,
        command.args,
        library,
        view_counts,
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
    view_counts: ViewCounts,
    i18n: I18n,
    policy: Policy,
    clock: Clock,
) -> None:
    if not question:
        me = await bot.me()
        replied = someone_elses_message(message, me.id)
        if replied is not None:
            await answer_replied(message, replied, library, view_counts, i18n, policy, clock)
            return
        username = me.username or ""
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
        view_counts,
        i18n,
        policy.kb_stale_days,
        clock.today(policy.timezone),
    )


def someone_elses_message(message: Message, bot_id: int) -> Message | None:
    """The message `message` replies to, unless it is the bot's own (a follow-up question) or
    the root of a forum topic (Telegram sets that as the reply of every message in a topic)."""
    replied = message.reply_to_message
    if replied is None or replied.forum_topic_created is not None:
        return None
    if message.is_topic_message and replied.message_id == message.message_thread_id:
        return None
    if replied.from_user is not None and replied.from_user.id == bot_id:
        return None
    return replied


def replied_question(message: Message, replied: Message) -> str:
    """The question to look up: the part the asker quoted, or the replied-to message's text
    or caption without a leading command."""
    if message.quote is not None and message.quote.text.strip():
        return message.quote.text.strip()
    text = (replied.text or replied.caption or "").strip()
    if text.startswith("/"):
        text = text.partition(" ")[2].strip()
    return text


async def answer_replied(
    message: Message,
    replied: Message,
    library: KnowledgeLibrary,
    view_counts: ViewCounts,
    i18n: I18n,
    policy: Policy,
    clock: Clock,
) -> None:
    """Answer the question of the message `message` replies to, under that message."""
    question = replied_question(message, replied)
    if not question:
        await message.reply(
            _(
                "That message has no text I could look up (a photo or a sticker, perhaps). "
                "Reply with /ask to a message that asks in words, or write the question "
                "after /ask."
            )
        )
        return
    today = clock.today(policy.timezone)
    await answer(
        message,
        question,
        library,
        view_counts,
        i18n,
        policy.kb_stale_days,
        today,
        replied=replied,
    )


def create_router() -> Router:
    router = Router(name="ask")
    router.message.register(ask_command, Command("ask"))
    router.message.register(
        group_question,
        F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP}),
        addressed_to_bot,
    )
    return router


def create_free_text_router() -> Router:
    """Private text that is no command, outside any dialogue: a question for the guide."""
    router = Router(name="free_text")
    # Text in the middle of a dialogue (a poll's question, say) belongs to that dialogue.
    router.message.register(free_text, is_private_question, StateFilter(None))
    return router


async def is_private_question(message: Message) -> bool:
    """Text that is no command, in a private chat: one check where three magic filters cost
    a tenth of every other update's routing."""
    text = message.text or ""
    return text[:1] not in ("", "/") and message.chat.type == ChatType.PRIVATE
