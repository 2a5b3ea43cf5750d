"""Every article is complete, sourced, dated, present in every language and fits a message."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.sandbox.telegram_html import html_to_plain
from services.knowledge import (
    ArticleError,
    ArticleLabels,
    load_knowledge_base,
    parse_article,
    render_article,
)

ROOT = Path(__file__).resolve().parent.parent / "knowledge"
LABELS = ArticleLabels("Sources", "Checked on {date}", "This may be outdated")
REQUIRED_TOPICS = {
    "pl-pbh",
    "pl-work-visa",
    "pl-karta-pobytu",
    "pl-long-term-citizenship",
    "pl-karta-polaka",
    "pl-taxes-it",
    "ge-visa-free",
    "ge-entry-insurance",
    "ge-individual-entrepreneur",
    "ge-it-residence",
    "ge-labour-migration-law",
    "ge-property-residence",
    "lt-security-questionnaire",
    "lt-restrictive-measures",
    "lt-work-residence",
    "lt-blue-card",
    "lt-startup-visa",
    "lt-tax-residency",
    "uz-visa-free",
    "uz-it-park",
    "uz-it-visa",
    "lv-overview",
    "am-overview",
    "rs-overview",
    "by-devby-surveys",
}


def test_the_real_knowledge_base_loads_and_covers_every_required_topic() -> None:
    base = load_knowledge_base(ROOT)
    assert set(base.ids) == REQUIRED_TOPICS
    assert len(base.articles) == 3 * len(REQUIRED_TOPICS)


def test_every_rendered_article_fits_one_telegram_message() -> None:
    base = load_knowledge_base(ROOT)
    for article in base.articles.values():
        text = render_article(article, LABELS, today=dt.date(2026, 11, 23))
        assert len(html_to_plain(text)) <= 4096, article.path


def test_stale_articles_say_so() -> None:
    article = load_knowledge_base(ROOT).get("pl-pbh", "en")
    assert article is not None
    fresh = render_article(article, LABELS, today=article.verified + dt.timedelta(days=10))
    stale = render_article(article, LABELS, today=article.verified + dt.timedelta(days=181))
    assert "outdated" not in fresh
    assert "This may be outdated" in stale
    assert f"Checked on {article.verified.isoformat()}" in fresh


GOOD = """---
id: pl-test
country: pl
title: A test
keywords: [a]
sources: [https://www.gov.pl/web/udsc-en]
verified: 2026-01-01
related: []
---
Body with a [link](https://www.gov.pl) and **bold**.
"""


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (("sources: [https://www.gov.pl/web/udsc-en]", "sources: []"), "at least one source"),
        (("verified: 2026-01-01", "verified: soon"), "verified must be a date"),
        (("title: A test\n", ""), "lacks title"),
        (("(https://www.gov.pl)", "(javascript:alert)"), "not a well-formed https URL"),
        (("id: pl-test", "id: ge-test"), "must look like pl-topic"),
        (("Body with", "# Heading\nBody with"), "headings"),
    ],
)
def test_invalid_articles_are_reported_with_file_and_reason(
    tmp_path: Path, change: tuple[str, str], reason: str
) -> None:
    folder = tmp_path / "pl"
    folder.mkdir()
    path = folder / "test.en.md"
    path.write_text(GOOD.replace(*change), encoding="utf-8")
    with pytest.raises(ArticleError, match=reason) as caught:
        parse_article(path)
    assert caught.value.path == path


def test_an_article_missing_in_one_language_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "pl"
    folder.mkdir()
    for language in ("be", "en"):
        (folder / f"test.{language}.md").write_text(GOOD, encoding="utf-8")
    with pytest.raises(ArticleError, match="missing in ru"):
        load_knowledge_base(tmp_path)


def test_rendering_escapes_html_in_bodies(tmp_path: Path) -> None:
    folder = tmp_path / "pl"
    folder.mkdir()
    path = folder / "test.en.md"
    path.write_text(GOOD.replace("Body with", "1 < 2 & <script> Body with"), encoding="utf-8")
    text = render_article(parse_article(path), LABELS, today=dt.date(2026, 1, 2))
    assert "&lt;script&gt;" in text
    assert "<b>bold</b>" in text
    html_to_plain(text)  # parses as Telegram HTML
