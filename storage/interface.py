"""The storage interface every backend implements (SQLite now; PostgreSQL could follow).

Keys about people are always pseudonyms computed by the caller; a backend never sees a
Telegram id.
"""

from __future__ import annotations

import datetime as dt
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


@dataclass(frozen=True)
class Wave:
    id: int
    label: str
    opened_on: dt.date
    closed_on: dt.date | None
    key_sealed: bytes | None  # None once closed: the key is destroyed

    @property
    def is_open(self) -> bool:
        return self.closed_on is None


@dataclass(frozen=True)
class Subscriber:
    subscriber: bytes
    chat_sealed: bytes


class WaveAlreadyOpenError(Exception):
    """Only one survey wave may be open at a time."""


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

    async def forget_votes(self, voters: list[str]) -> None: ...

    async def record_unanswered(self, question_key: str, example: str) -> None: ...

    async def top_unanswered(self, limit: int) -> list[UnansweredQuestion]: ...


class SurveyRepository(Protocol):
    """Survey waves and their responses, keyed by per-wave pseudonyms."""

    async def open_wave(self, label: str, key_sealed: bytes, opened_on: dt.date) -> Wave: ...

    async def close_wave(self, wave_id: int, closed_on: dt.date) -> None:
        """Close the wave and destroy its key (overwritten on disk, WAL checkpointed)."""

    async def current_wave(self) -> Wave | None: ...

    async def waves(self) -> list[tuple[Wave, int]]:
        """Every wave, newest first, with its number of responses."""

    async def save_response(
        self, wave_id: int, respondent: bytes, week: str, answers: str
    ) -> None:
        """Insert or replace this person's response to the wave."""

    async def has_response(self, wave_id: int, respondent: bytes) -> bool: ...

    async def delete_response(self, wave_id: int, respondent: bytes) -> bool: ...

    async def response_groups(self, wave_id: int) -> list[tuple[str, int]]:
        """Distinct answer sets of the wave with how many gave each."""


class SubscriptionRepository(Protocol):
    """Who asked to hear about new waves: sealed chat ids, nothing linking them to responses."""

    async def subscribe(
        self, subscriber: bytes, chat_sealed: bytes, notified_wave: int
    ) -> None: ...

    async def unsubscribe(self, subscriber: bytes) -> bool: ...

    async def is_subscribed(self, subscriber: bytes) -> bool: ...

    async def pending(self, wave_id: int, limit: int) -> list[Subscriber]:
        """Subscribers not yet told about `wave_id`."""

    async def mark_notified(self, subscriber: bytes, wave_id: int) -> None: ...

    async def count(self) -> int: ...


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

    @property
    def survey(self) -> SurveyRepository: ...

    @property
    def subscriptions(self) -> SubscriptionRepository: ...

    async def close(self) -> None: ...
