"""Admin commands for the guide: /unanswered, /kbstats, /kbreload (ADMIN_IDS only)."""

from __future__ import annotations

import html

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from handlers.access import is_admin, refuse
from services.knowledge import ArticleError
from services.knowledge.library import KnowledgeLibrary
from storage import Storage

TOP = 15


async def unanswered(message: Message, storage: Storage, admin_ids: frozenset[int]) -> None:
    if not is_admin(message, admin_ids):
        await refuse(message)
        return
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


async def kbstats(message: Message, storage: Storage, admin_ids: frozenset[int]) -> None:
    if not is_admin(message, admin_ids):
        await refuse(message)
        return
    stats = await storage.knowledge_stats.article_stats()
    if not stats:
        await message.reply(_("No article has been read yet."))
        return
    lines = [f"{s.article_id}: 👁 {s.views} 👍 {s.helpful} 👎 {s.unhelpful}" for s in stats[:40]]
    await message.reply(_("<b>Articles</b>: views and feedback") + "\n\n" + "\n".join(lines))


async def kbreload(message: Message, library: KnowledgeLibrary, admin_ids: frozenset[int]) -> None:
    if not is_admin(message, admin_ids):
        await refuse(message)
        return
    try:
        count = library.reload()
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
