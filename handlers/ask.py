"""Questions in free text (private chats) or `/ask` (anywhere): answered from the guide."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.menu import MenuCallback
from handlers.relocate import BrowseCallback, article_view
from services.knowledge.library import KnowledgeLibrary
from services.knowledge.search import answer_question, fold
from services.privacy import mask_long_numbers
from storage import Storage

MAX_RECORDED_QUESTION = 200


async def answer(
    message: Message,
    question: str,
    library: KnowledgeLibrary,
    storage: Storage,
    i18n: I18n,
    kb_stale_days: int,
) -> None:
    """Reply with the article, a choice of up to three, or an honest "not found"."""
    knowledge = library.base
    language = i18n.current_locale
    result = answer_question(library.index, question)
    if result.article_id is not None:
        view = article_view(knowledge, result.article_id, language, kb_stale_days)
        if view is not None:
            await storage.knowledge_stats.record_view(result.article_id)
            await message.reply(view[0], reply_markup=view[1])
            return
    builder = InlineKeyboardBuilder()
    if result.candidates:
        for article_id in result.candidates:
            article = knowledge.get(article_id, language)
            if article is not None:
                builder.button(
                    text=article.title,
                    callback_data=BrowseCallback(view="article", key=article_id),
                )
        builder.adjust(1)
        await message.reply(_("Which of these did you mean?"), reply_markup=builder.as_markup())
        return
    # Only the words, long numbers masked: no user, chat, time or message id goes with them.
    example = mask_long_numbers(" ".join(question.split()))[:MAX_RECORDED_QUESTION]
    key = " ".join(fold(example).split())
    if key:
        await storage.knowledge_stats.record_unanswered(key, example)
    builder.button(text=_("🧭 Relocation guide"), callback_data=MenuCallback(action="relocate"))
    await message.reply(
        _(
            "I did not find an answer to that in my guide. Try other words, or browse the "
            "guide by country:"
        ),
        reply_markup=builder.as_markup(),
    )


async def free_text(
    message: Message,
    library: KnowledgeLibrary,
    storage: Storage,
    i18n: I18n,
    kb_stale_days: int,
) -> None:
    await answer(message, message.text or "", library, storage, i18n, kb_stale_days)


async def ask_command(
    message: Message,
    command: CommandObject,
    library: KnowledgeLibrary,
    storage: Storage,
    i18n: I18n,
    kb_stale_days: int,
) -> None:
    if not command.args or not command.args.strip():
        await message.reply(
            _("Write your question after the command, for example: /ask karta pobytu")
        )
        return
    await answer(message, command.args, library, storage, i18n, kb_stale_days)


def create_router() -> Router:
    router = Router(name="ask")
    router.message.register(ask_command, Command("ask"))
    router.message.register(
        free_text, F.chat.type == ChatType.PRIVATE, F.text, ~F.text.startswith("/")
    )
    return router
