"""The knowledge base being served, with its search index; reloadable without a restart.

Building the index takes about a minute at 20,000 articles, so it is built in a worker thread:
the event loop keeps answering, from the edition already in service, until the new one is
ready and replaces it whole.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from services.knowledge.articles import KnowledgeBase, load_knowledge_base
from services.knowledge.search import SearchIndex


@dataclass(frozen=True)
class Edition:
    """One reading of the articles and the index built from it, always served together."""

    base: KnowledgeBase
    index: SearchIndex


def build_edition(root: Path) -> Edition:
    """Read every article under `root` and index them; raises ArticleError (file and reason)."""
    base = load_knowledge_base(root)
    return Edition(base, SearchIndex(base))


class KnowledgeLibrary:
    """Holds the edition in service; a failed reload leaves it as it was."""

    def __init__(self, root: Path, edition: Edition | None = None) -> None:
        self.root = root
        self._edition = edition or build_edition(root)
        self._reloading = asyncio.Lock()

    @classmethod
    async def open(cls, root: Path) -> KnowledgeLibrary:
        """Build the first edition off the event loop."""
        return cls(root, await asyncio.to_thread(build_edition, root))

    @property
    def base(self) -> KnowledgeBase:
        return self._edition.base

    @property
    def index(self) -> SearchIndex:
        return self._edition.index

    async def reload(self) -> int:
        """Re-read every article off the event loop and serve the result once it is complete;
        raises ArticleError and keeps the old. One reload at a time."""
        async with self._reloading:
            edition = await asyncio.to_thread(build_edition, self.root)
        self._edition = edition
        return len(edition.base.ids)
