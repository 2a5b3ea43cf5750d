"""Every article is complete, sourced, dated, present in every language and fits a message."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse

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
    "by-passport",
    "by-documents",
    "by-visiting",
    "by-bank-accounts",
    "by-humanitarian-protection",
    "by-driving-licence",
    "by-health-insurance",
    "by-taxes",
    "by-military-service",
    "by-diploma-recognition",
    "pl-pesel-nip",
    "pl-family-reunification",
    "rs-residence",
    "am-residence",
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


def test_every_source_names_the_page_not_just_the_site() -> None:
    for article in load_knowledge_base(ROOT).articles.values():
        for url in article.sources:
            parts = urlparse(url)
            assert parts.path.strip("/") or parts.query, f"{article.path}: {url} has no path"


_NUMBER = re.compile(r"\d+(?:[ ,.\u00a0\u202f]\d+)*")
_LINK_TARGET = re.compile(r"\]\([^)]*\)")


def figures(body: str) -> set[str]:
    """The numbers in a text, written one way: 93 512 and 93,512 -> 93512; 1,5 and 1.5 -> 1.5."""
    found = set()
    for match in _NUMBER.finditer(_LINK_TARGET.sub("]", body)):
        groups = re.split(r"[ ,.\u00a0\u202f]", match.group())
        separators = re.findall(r"[ ,.\u00a0\u202f]", match.group())
        if all(len(g) == 3 for g in groups[1:]) and "." not in separators:
            found.add("".join(groups))  # thousands grouped with a comma or a space
        elif len(groups) == 2 and separators[0] in ",.":
            found.add(".".join(groups))  # a decimal point or comma
        else:
            found.update(groups)  # a list such as "20/25/32" or "3 4"
    return found


def test_figures_are_written_the_same_way_in_every_language() -> None:
    versions: dict[str, dict[str, set[str]]] = defaultdict(dict)
    for (article_id, language), article in load_knowledge_base(ROOT).articles.items():
        versions[article_id][language] = figures(article.body)
    for article_id, by_language in versions.items():
        english = by_language["en"]
        for language, found in by_language.items():
            assert found == english, (
                f"{article_id}: only in {language}: {sorted(found - english)}; "
                f"only in en: {sorted(english - found)}"
            )


def test_figures_read_grouped_and_decimal_numbers_alike() -> None:
    assert figures("93,512 visas; 1.5x; PLN 3,000-50,000") == {"93512", "1.5", "3000", "50000"}
    assert figures("93 512 віз; 1,5 раза; 3 000-50 000 zł") == {
        "93512",
        "1.5",
        "3000",
        "50000",
    }
    assert figures("[mfa](https://example.org/2024/05) 20/25/32%") == {"20", "25", "32"}


def test_open_questions_are_read_and_listed() -> None:
    base = load_knowledge_base(ROOT)
    for language in ("be", "ru", "en"):
        listed = base.with_open_questions(language)
        assert all(article.open_questions for article in listed)
        assert [a.id for a in listed] == [a.id for a in base.with_open_questions("en")]


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
        (("related: []", "related: []\nopen_questions: unknown"), "open_questions must be a list"),
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
