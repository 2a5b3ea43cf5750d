"""Admin commands for the guide: /unanswered, /kbstats, /kbreload."""

from __future__ import annotations

import html

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _

from services.knowledge import ArticleError
from services.knowledge.library import KnowledgeLibrary
from storage import Storage

TOP = 15
TOP_ARTICLES = 40


async def unanswered(message: Message, storage: Storage) -> None:
    questions = await storage.knowledge_stats.top_unanswered(TOP)
    if not questions:
        await message.reply(_("No unanswered questions so far."))
        return
    lines = [f"{q.times} × {html.escape(q.terms)}" for q in questions]
    await message.reply(
        _("<b>Unanswered questions</b> (search terms only), most frequent first:")
        + "\n\n"
        + "\n".join(lines)
    )


async def kbstats(
    message: Message, storage: Storage, library: KnowledgeLibrary, i18n: I18n
) -> None:
    stats = await storage.knowledge_stats.article_stats()
    text = _("No article has been read yet.")
    if stats:
        lines = [
            f"{s.article_id}: 👁 {s.views} 👍 {s.helpful} 👎 {s.unhelpful}"
            for s in stats[:TOP_ARTICLES]
        ]
        text = _("<b>Articles</b>: views and feedback") + "\n\n" + "\n".join(lines)
    await message.reply(text + open_questions_section(library, i18n.current_locale))


def open_questions_section(library: KnowledgeLibrary, language: str) -> str:
    """The articles with unconfirmed claims, so that admins re-check those first."""
    unconfirmed = library.base.with_open_questions(language)
    if not unconfirmed:
        return ""
    # Ids and counts only: the questions themselves are in each article's front matter.
    lines = [f"{a.id}: ❓ {len(a.open_questions)}" for a in unconfirmed]
    return (
        "\n\n" + _("<b>Open questions</b> (claims not yet confirmed):") + "\n" + "\n".join(lines)
    )


async def kbreload(message: Message, library: KnowledgeLibrary) -> None:
    try:
        count = await library.reload()
    except ArticleError as exc:
        await message.reply(
            _("The guide was not reloaded; the previous version stays in service.")
            + f"\n<code>{html.escape(str(exc))}</code>"
        )
        return
    text = ngettext(
        "The guide is reloaded: {count} article.",
        "The guide is reloaded: {count} articles.",
        count,
    )
    await message.reply(text.format(count=count))


def create_router() -> Router:
    router = Router(name="kb_admin")
    router.message.register(unanswered, Command("unanswered"))
    router.message.register(kbstats, Command("kbstats"))
    router.message.register(kbreload, Command("kbreload"))
    return router
