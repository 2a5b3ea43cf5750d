"""Article text to Telegram HTML, with the sources and the date it was checked."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from urllib.parse import urlparse

from services.knowledge.articles import Article

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\((https://[^)\s]+)\)")


@dataclass(frozen=True)
class ArticleLabels:
    """The translated words around an article, chosen by the caller's locale."""

    sources: str
    checked_on: str  # contains {date}
    may_be_outdated: str


def render_markdown(body: str) -> str:
    """The small Markdown subset of the articles (bold, links, bullets) as Telegram HTML."""
    escaped = html.escape(body, quote=False)
    escaped = _BOLD.sub(r"<b>\1</b>", escaped)
    escaped = _LINK.sub(lambda m: f'<a href="{html.escape(m.group(2))}">{m.group(1)}</a>', escaped)
    lines = [("• " + line[2:]) if line.startswith("- ") else line for line in escaped.split("\n")]
    return "\n".join(lines)


def render_article(
    article: Article, labels: ArticleLabels, *, today: dt.date, stale_after_days: int = 180
) -> str:
    """The full message: title, body, sources and the check date (flagged when stale)."""
    sources = ", ".join(
        f'<a href="{html.escape(url)}">{html.escape(urlparse(url).hostname or url)}</a>'
        for url in article.sources
    )
    footer = [
        f"{html.escape(labels.sources)}: {sources}",
        html.escape(labels.checked_on.format(date=article.verified.isoformat())),
    ]
    if article.is_stale(today, stale_after_days):
        footer.append(f"⚠️ {html.escape(labels.may_be_outdated)}")
    return "\n".join(
        [f"<b>{html.escape(article.title)}</b>", "", render_markdown(article.body), "", *footer]
    )
