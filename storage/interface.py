"""The storage interface every backend implements (SQLite now; PostgreSQL could follow).

Keys about people are always pseudonyms computed by the caller; a backend never sees a
Telegram id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ArticleStats:
    article_id: str
    views: int
    helpful: int
    unhelpful: int


@dataclass(frozen=True)
class UnansweredQuestion:
    example: str
    times: int


class MetaRepository(Protocol):
    """Small named values about the installation itself."""

    async def get(self, name: str) -> str | None: ...

    async def set(self, name: str, value: str) -> None: ...


class PreferencesRepository(Protocol):
    """A person's settings, keyed by their pseudonym."""

    async def get_locale(self, person: str) -> str | None: ...

    async def set_locale(self, person: str, locale: str) -> None: ...

    async def forget(self, person: str) -> None: ...


class FsmRepository(Protocol):
    """Opaque, already encrypted dialogue state keyed by a pseudonymous key."""

    async def load(self, key: str) -> bytes | None: ...

    async def save(self, key: str, blob: bytes) -> None: ...

    async def delete(self, key: str) -> None: ...


class KnowledgeStatsRepository(Protocol):
    """Views, feedback and unanswered questions of the relocation guide."""

    async def record_view(self, article_id: str) -> None: ...

    async def vote(self, voter: str, article_id: str, helpful: bool) -> None: ...

    async def article_stats(self) -> list[ArticleStats]: ...

    async def record_unanswered(self, question_key: str, example: str) -> None: ...

    async def top_unanswered(self, limit: int) -> list[UnansweredQuestion]: ...


class Storage(Protocol):
    """Everything the bot persists, grouped by repository."""

    @property
    def meta(self) -> MetaRepository: ...

    @property
    def preferences(self) -> PreferencesRepository: ...

    @property
    def fsm(self) -> FsmRepository: ...

    @property
    def knowledge_stats(self) -> KnowledgeStatsRepository: ...

    async def close(self) -> None: ...
