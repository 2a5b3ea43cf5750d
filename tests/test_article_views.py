"""An article's message and keyboard are made once per edition and language, the most recently
read kept up to a limit, and are what making them anew gives."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.i18n import create_i18n
from handlers.guide.relocate import ArticleViews, make_article_view
from services.knowledge import load_knowledge_base

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
TODAY = dt.date(2026, 11, 18)


def test_views_are_made_once_per_edition_and_the_least_recent_go_past_the_limit() -> None:
    knowledge = load_knowledge_base(KNOWLEDGE)
    first, second, third = knowledge.ids[:3]
    views = ArticleViews(limit=2)
    i18n = create_i18n("en")
    with i18n.context(), i18n.use_locale("en"):
        shown = views.get(knowledge, first, "en", 180, TODAY)
        article = knowledge.get(first, "en")
        assert article is not None
        assert shown == make_article_view(knowledge, article, 180, TODAY)
        assert views.get(knowledge, first, "en", 180, TODAY) is shown  # made once
        assert views.get(knowledge, first, "xx", 180, TODAY) is None
        second_shown = views.get(knowledge, second, "en", 180, TODAY)
        views.get(knowledge, first, "en", 180, TODAY)  # read again: the most recent
        views.get(knowledge, third, "en", 180, TODAY)  # past the limit: `second` goes
        assert views.get(knowledge, first, "en", 180, TODAY) is shown
        assert views.get(knowledge, second, "en", 180, TODAY) is not second_shown
        reloaded = load_knowledge_base(KNOWLEDGE)  # what /kbreload serves next
        again = views.get(reloaded, first, "en", 180, TODAY)
        assert again == shown
        assert again is not shown
        with i18n.use_locale("be"):
            belarusian = views.get(reloaded, first, "be", 180, TODAY)
        assert belarusian is not None
        assert belarusian[0] != shown[0]
