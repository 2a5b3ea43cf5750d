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
from services.knowledge import KnowledgeBase
from services.knowledge.search import SearchIndex, answer_question


async def answer(
    message: Message,
    question: str,
    knowledge: KnowledgeBase,
    search_index: SearchIndex,
    i18n: I18n,
    kb_stale_days: int,
) -> None:
    """Reply with the article, a choice of up to three, or an honest "not found"."""
    language = i18n.current_locale
    result = answer_question(search_index, question)
    if result.article_id is not None:
        view = article_view(knowledge, result.article_id, language, kb_stale_days)
        if view is not None:
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
    knowledge: KnowledgeBase,
    search_index: SearchIndex,
    i18n: I18n,
    kb_stale_days: int,
) -> None:
    await answer(message, message.text or "", knowledge, search_index, i18n, kb_stale_days)


async def ask_command(
    message: Message,
    command: CommandObject,
    knowledge: KnowledgeBase,
    search_index: SearchIndex,
    i18n: I18n,
    kb_stale_days: int,
) -> None:
    if not command.args or not command.args.strip():
        await message.reply(
            _("Write your question after the command, for example: /ask karta pobytu")
        )
        return
    await answer(message, command.args, knowledge, search_index, i18n, kb_stale_days)


def create_router() -> Router:
    router = Router(name="ask")
    router.message.register(ask_command, Command("ask"))
    router.message.register(
        free_text, F.chat.type == ChatType.PRIVATE, F.text, ~F.text.startswith("/")
    )
    return router
