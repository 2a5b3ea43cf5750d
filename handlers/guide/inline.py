"""Inline mode: `@bot query` in any chat offers matching articles to share."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import (
    InlineQuery,
    InlineQueryResultArticle,
    InlineQueryResultUnion,
    InputTextMessageContent,
)
from aiogram.utils.i18n import I18n

from handlers.guide.relocate import article_labels
from services.clock import Clock
from services.knowledge import render_article
from services.knowledge.library import KnowledgeLibrary
from services.knowledge.search import confident_hits
from services.policy import Policy

MAX_RESULTS = 5


async def inline_search(
    query: InlineQuery,
    library: KnowledgeLibrary,
    i18n: I18n,
    policy: Policy,
    clock: Clock,
) -> None:
    language = i18n.current_locale
    hits = confident_hits(library.index, query.query, limit=MAX_RESULTS)
    today = clock.today(policy.timezone)
    results: list[InlineQueryResultUnion] = []
    for hit in hits:
        article = library.base.get(hit.article_id, language)
        if article is None:
            continue
        text = render_article(
            article, article_labels(), today=today, stale_after_days=policy.kb_stale_days
        )
        results.append(
            InlineQueryResultArticle(
                id=article.id,
                title=article.title,
                description=article.body[:120].replace("\n", " "),
                input_message_content=InputTextMessageContent(message_text=text),
            )
        )
    # Personal results: the answer depends on the asker's language.
    await query.answer(results, cache_time=60, is_personal=True)


def create_router() -> Router:
    router = Router(name="inline")
    router.inline_query.register(inline_search)
    return router
