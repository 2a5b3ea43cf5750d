"""The relocation knowledge base: articles in files, validated, rendered for Telegram."""

from services.knowledge.articles import (
    COUNTRIES,
    Article,
    ArticleError,
    KnowledgeBase,
    load_knowledge_base,
    parse_article,
)
from services.knowledge.render import ArticleLabels, render_article, render_markdown

__all__ = [
    "COUNTRIES",
    "Article",
    "ArticleError",
    "ArticleLabels",
    "KnowledgeBase",
    "load_knowledge_base",
    "parse_article",
    "render_article",
    "render_markdown",
]
