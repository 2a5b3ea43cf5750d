"""The knowledge base being served, with its search index; reloadable without a restart."""

from __future__ import annotations

from pathlib import Path

from services.knowledge.articles import load_knowledge_base
from services.knowledge.search import SearchIndex


class KnowledgeLibrary:
    """Holds the current base and index; a failed reload leaves both as they were."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.base = load_knowledge_base(root)
        self.index = SearchIndex(self.base)

    def reload(self) -> int:
        """Re-read every article; raises ArticleError (file and reason) and keeps the old."""
        base = load_knowledge_base(self.root)
        index = SearchIndex(base)
        self.base, self.index = base, index
        return len(base.ids)
