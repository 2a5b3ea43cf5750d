"""Articles are `knowledge/<country>/<topic>.<lang>.md` files with YAML front matter."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LANGUAGES = ("be", "ru", "en")
# Browse order: where most people went first, then the short country cards, then history.
COUNTRIES = ("pl", "ge", "lt", "uz", "lv", "am", "rs", "by")
MAX_TITLE = 80
MAX_BODY = 2500
_ID = re.compile(r"^[a-z]{2}-[a-z0-9-]+$")
_URL = re.compile(r"^https://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(/[^\s<>\"]*)?$")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_REQUIRED = ("id", "country", "title", "keywords", "sources", "verified", "related")


class ArticleError(ValueError):
    """An article file is invalid; the message names the file and the reason."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class Article:
    id: str
    country: str
    language: str
    title: str
    keywords: tuple[str, ...]
    sources: tuple[str, ...]
    verified: dt.date
    related: tuple[str, ...]
    body: str
    path: Path
    open_questions: tuple[str, ...] = ()  # claims the sources did not confirm

    def is_stale(self, today: dt.date, stale_after_days: int) -> bool:
        """Checked more than `stale_after_days` before `today`."""
        return (today - self.verified).days > stale_after_days


def parse_article(path: Path) -> Article:
    """Read and validate one article file."""
    match = re.fullmatch(r"([a-z0-9-]+)\.([a-z]{2})\.md", path.name)
    if match is None or match.group(2) not in LANGUAGES:
        raise ArticleError(path, "the file name must be <topic>.<be|ru|en>.md")
    text = path.read_text("utf-8")
    parts = text.split("---\n", 2)
    if len(parts) != 3 or parts[0].strip():
        raise ArticleError(path, "front matter between --- lines is missing")
    try:
        meta: Any = yaml.safe_load(parts[1])
    except yaml.YAMLError as exc:
        raise ArticleError(
            path, f"front matter is not valid YAML ({exc.__class__.__name__})"
        ) from None
    if not isinstance(meta, dict):
        raise ArticleError(path, "front matter must be a mapping")
    missing = [name for name in _REQUIRED if name not in meta]
    if missing:
        raise ArticleError(path, f"front matter lacks {', '.join(missing)}")
    article_id, country = str(meta["id"]), str(meta["country"])
    if not _ID.match(article_id) or not article_id.startswith(f"{country}-"):
        raise ArticleError(path, f"id {article_id!r} must look like {country}-topic")
    if country not in COUNTRIES or path.parent.name != country:
        raise ArticleError(path, f"country {country!r} must be one of {COUNTRIES} and the folder")
    title = str(meta["title"]).strip()
    if not title or len(title) > MAX_TITLE:
        raise ArticleError(path, f"title must be 1-{MAX_TITLE} characters")
    keywords = _strings(path, meta["keywords"], "keywords")
    sources = _strings(path, meta["sources"], "sources")
    if not sources:
        raise ArticleError(path, "at least one source is required")
    for url in sources:
        if not _URL.match(url):
            raise ArticleError(path, f"source {url!r} is not an https URL")
    verified = meta["verified"]
    if not isinstance(verified, dt.date):
        raise ArticleError(path, "verified must be a date (YYYY-MM-DD)")
    related = _strings(path, meta["related"] or [], "related")
    open_questions = _strings(path, meta.get("open_questions") or [], "open_questions")
    body = parts[2].strip()
    if not body or len(body) > MAX_BODY:
        raise ArticleError(path, f"the body must be 1-{MAX_BODY} characters")
    if re.search(r"^#", body, re.M):
        raise ArticleError(path, "headings are not allowed in the body")
    for _, url in _LINK.findall(body):
        if not _URL.match(url):
            raise ArticleError(path, f"link {url!r} is not a well-formed https URL")
    return Article(
        article_id,
        country,
        match.group(2),
        title,
        keywords,
        sources,
        verified,
        related,
        body,
        path,
        open_questions,
    )


def _strings(path: Path, value: object, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise ArticleError(path, f"{name} must be a list of strings")
    return tuple(str(v).strip() for v in value if str(v).strip())


@dataclass(frozen=True)
class KnowledgeBase:
    """Every article in every language, checked for consistency across languages."""

    articles: dict[tuple[str, str], Article]  # (id, language) -> article

    @property
    def ids(self) -> list[str]:
        return sorted({article_id for article_id, _ in self.articles})

    def get(self, article_id: str, language: str) -> Article | None:
        return self.articles.get((article_id, language))

    def countries(self) -> list[str]:
        present = {article.country for article in self.articles.values()}
        return [country for country in COUNTRIES if country in present]

    def in_country(self, country: str, language: str) -> list[Article]:
        found = [
            a for a in self.articles.values() if a.country == country and a.language == language
        ]
        return sorted(found, key=lambda article: article.path.name)

    def with_open_questions(self, language: str) -> list[Article]:
        """Articles whose facts are not all confirmed yet, in id order."""
        found = [a for (_, lang), a in self.articles.items() if lang == language]
        return sorted((a for a in found if a.open_questions), key=lambda article: article.id)

    def stale(self, language: str, today: dt.date, stale_after_days: int) -> list[Article]:
        """Articles checked more than `stale_after_days` before `today`, oldest check first."""
        found = [
            a
            for (_, lang), a in self.articles.items()
            if lang == language and a.is_stale(today, stale_after_days)
        ]
        return sorted(found, key=lambda article: (article.verified, article.id))


def load_knowledge_base(root: Path) -> KnowledgeBase:
    """Load and validate everything under `root`; raises ArticleError on the first problem."""
    articles: dict[tuple[str, str], Article] = {}
    for path in sorted(root.glob("*/*.md")):
        article = parse_article(path)
        key = (article.id, article.language)
        if key in articles:
            raise ArticleError(path, f"id {article.id} already used by {articles[key].path}")
        articles[key] = article
    ids = {article_id for article_id, _ in articles}
    for article_id in sorted(ids):
        versions = [articles.get((article_id, language)) for language in LANGUAGES]
        present = [v for v in versions if v is not None]
        if len(present) != len(LANGUAGES):
            lacking = [lang for lang, v in zip(LANGUAGES, versions, strict=True) if v is None]
            raise ArticleError(present[0].path, f"missing in {', '.join(lacking)}")
        first = present[0]
        for other in present[1:]:
            if (other.country, other.related, other.verified) != (
                first.country,
                first.related,
                first.verified,
            ):
                raise ArticleError(
                    other.path, "country, related and verified must match across languages"
                )
        for related in first.related:
            if related not in ids:
                raise ArticleError(first.path, f"related id {related!r} does not exist")
    return KnowledgeBase(articles)
