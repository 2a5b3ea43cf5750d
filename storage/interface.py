"""The storage interface every backend implements (SQLite now; PostgreSQL could follow).

Keys about people are always pseudonyms computed by the caller; a backend never sees a
Telegram id. Each repository comes in two shapes: a reader (`Storage.survey`, ...) that only
reads committed data, and the full repository, reachable only inside `Storage.transaction()`.
"""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ArticleStats:
    article_id: str
    views: int
    helpful: int
    unhelpful: int


# The unanswered questions kept at most; a new one past it replaces the least asked.
UNANSWERED_LIMIT = 1000
# Readers' notes kept per article; past it the oldest goes (many accounts cannot fill the disk).
NOTES_PER_ARTICLE = 200


@dataclass(frozen=True)
class UnansweredQuestion:
    terms: str  # normalised search terms, never the text as typed
    times: int


@dataclass(frozen=True)
class ReaderNote:
    """A reader's note that an article is outdated or wrong; nothing says whose."""

    article_id: str
    note: str  # as typed, numbers and contacts masked
    noted_in: str  # YYYY-MM, nothing finer


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
class SurveySnapshot:
    """A wave's published figures: `figures` is the suppressed aggregates as JSON."""

    wave_id: int
    version: int  # grows by one at each publication
    figures: str


@dataclass(frozen=True)
class AnswerCounts:
    """A wave's distinct answer sets with how many gave each, read at one revision."""

    wave_id: int
    revision: int  # grows with every change to the wave's answers
    groups: list[tuple[str, int]]


@dataclass(frozen=True)
class Subscriber:
    subscriber: bytes
    chat_sealed: bytes


@dataclass(frozen=True)
class ChatRecord:
    chat_key: bytes
    chat_sealed: bytes
    kind: str
    active: bool
    forum: bool = False  # a supergroup with topics


@dataclass(frozen=True)
class Poll:
    id: int
    chat_key: bytes
    kind: str  # native | census
    question: str
    options: tuple[str, ...]
    multiple: bool
    message_id: int | None
    telegram_poll_id: str | None
    tallies: tuple[int, ...]
    opened_on: dt.date
    close_at: dt.datetime | None  # UTC
    closed_on: dt.date | None
    voter_key_sealed: bytes | None
    locale: str
    hidden_counts: bool = False  # no live counts until the poll closes
    thread_id: int | None = None  # the forum topic it was posted in

    @property
    def is_open(self) -> bool:
        return self.closed_on is None


@dataclass(frozen=True)
class PollCopy:
    """One message of a poll: its first chat's, or a further chat's when pooled."""

    chat_key: bytes
    message_id: int


@dataclass(frozen=True)
class ResultsDue:
    """A closed poll's results still to post in one chat: `stage` is close (stop the poll or
    edit its message first) or results (post them)."""

    poll_id: int
    chat_key: bytes
    message_id: int | None
    stage: str


@dataclass(frozen=True)
class DigestRecord:
    period_key: str
    kind: str  # scheduled | manual
    status: str  # posting | posted | failed
    claimed_at: dt.datetime
    message_ids: tuple[int, ...]
    snapshot: str  # JSON of the published figures


class WaveAlreadyOpenError(Exception):
    """Only one survey wave may be open at a time."""


class MetaReader(Protocol):
    """Small named values about the installation itself."""

    async def get(self, name: str) -> str | None: ...


class MetaRepository(MetaReader, Protocol):
    async def set(self, name: str, value: str) -> None: ...


class PreferencesReader(Protocol):
    """A person's settings, keyed by their pseudonym."""

    async def get_locale(self, person: str) -> str | None: ...


class PreferencesRepository(PreferencesReader, Protocol):
    async def set_locale(self, person: str, locale: str) -> None: ...

    async def forget(self, person: str) -> None: ...


class FsmReader(Protocol):
    """Opaque, already encrypted dialogue state keyed by a pseudonymous key."""

    async def load(self, key: str) -> bytes | None: ...


class FsmRepository(FsmReader, Protocol):
    async def save(self, key: str, blob: bytes, wave_id: int | None = None) -> None:
        """Store the state; `wave_id` names the survey wave an unfinished survey belongs to."""

    async def delete(self, key: str) -> None: ...

    async def delete_wave(self, wave_id: int) -> int:
        """Delete every dialogue state of the wave (its unfinished surveys); how many."""


class KnowledgeStatsReader(Protocol):
    """Views, feedback and unanswered questions of the relocation guide."""

    async def article_stats(self) -> list[ArticleStats]: ...

    async def top_unanswered(self, limit: int) -> list[UnansweredQuestion]: ...

    async def note_counts(self) -> list[tuple[str, int]]:
        """Every article with readers' notes and how many, the most noted first."""

    async def notes(self, article_id: str, limit: int) -> list[ReaderNote]:
        """The article's notes, newest first."""

    async def count_unanswered(self) -> int:
        """How many distinct unanswered questions are kept (at most UNANSWERED_LIMIT)."""


class KnowledgeStatsRepository(KnowledgeStatsReader, Protocol):
    async def record_view(self, article_id: str, views: int = 1) -> None:
        """Count `views` more views of the article."""

    async def vote(self, voter: str, article_id: str, helpful: bool) -> bool | None:
        """Record or replace the voter's vote; the vote it replaced, None if it is the first."""

    async def voted_articles(self) -> list[str]:
        """Every article id that has votes, including articles no longer in the guide."""

    async def forget_votes(self, voters: list[str]) -> None: ...

    async def record_unanswered(self, terms: str, times: int = 1) -> None:
        """Count the question `times` more times; past UNANSWERED_LIMIT questions the least
        asked other goes."""

    async def add_note(self, article_id: str, note: str, noted_in: str) -> None:
        """Keep the note; past NOTES_PER_ARTICLE the article's oldest note goes."""

    async def clear_notes(self, article_id: str) -> int:
        """Delete the article's notes (it was fixed); how many."""


class SurveyReader(Protocol):
    """Survey waves and their responses, keyed by per-wave pseudonyms."""

    async def current_wave(self) -> Wave | None: ...

    async def waves(self) -> list[tuple[Wave, int]]:
        """Every wave, newest first, with its number of responses."""

    async def recent_waves(self, limit: int) -> list[Wave]:
        """The newest waves first, without counting anything (cheap at any size)."""

    async def has_response(self, wave_id: int, respondent: bytes) -> bool: ...

    async def response_groups(self, wave_id: int) -> list[tuple[str, int]]:
        """Distinct answer sets of the wave with how many gave each."""

    async def answer_counts(self, wave_id: int) -> AnswerCounts:
        """The same, with the wave's revision, both read at the same moment (one row per
        distinct set: the cost does not grow with the respondents)."""

    async def changed_respondents(self, wave_id: int) -> int:
        """How many distinct respondents answered or changed their answers since the wave's
        snapshot was published (a re-submit of the same answers is no change)."""

    async def snapshot(self, wave_id: int) -> SurveySnapshot | None:
        """The wave's published figures; None until it first had enough respondents."""


class SurveyRepository(SurveyReader, Protocol):
    async def open_wave(self, label: str, key_sealed: bytes, opened_on: dt.date) -> Wave:
        """Raises WaveAlreadyOpenError while another wave is open."""

    async def close_wave(self, wave_id: int, closed_on: dt.date) -> None:
        """Close the wave and destroy its key (`Storage.checkpoint_truncate` then removes the
        copies the journal still holds); its changed marks are cleared."""

    async def save_response(
        self, wave_id: int, respondent: bytes, week: str, answers: str
    ) -> None:
        """Insert or replace this person's response to the wave, marking it changed unless
        the answers are the same as before."""

    async def delete_response(self, wave_id: int, respondent: bytes) -> bool: ...

    async def clear_changed(self, wave_id: int) -> None:
        """No response of the wave counts as changed any more (they are being published)."""

    async def publish_snapshot(
        self, wave_id: int, figures: str, revision: int
    ) -> SurveySnapshot | None:
        """Store the wave's new published figures, computed at `revision`; None (nothing
        stored) when the stored ones are of a later revision."""


class SubscriptionReader(Protocol):
    """Who asked to hear about new waves: sealed chat ids, nothing linking them to responses."""

    async def is_subscribed(self, subscriber: bytes) -> bool: ...

    async def pending(self, wave_id: int, limit: int) -> list[Subscriber]:
        """Subscribers not yet told about `wave_id`."""

    async def count(self) -> int: ...


class SubscriptionRepository(SubscriptionReader, Protocol):
    async def subscribe(
        self, subscriber: bytes, chat_sealed: bytes, notified_wave: int
    ) -> None: ...

    async def unsubscribe(self, subscriber: bytes) -> bool: ...

    async def mark_notified(self, subscriber: bytes, wave_id: int) -> bool:
        """Mark them told about `wave_id`; False if they were already (by another worker)."""

    async def unmark_notified(self, subscriber: bytes, wave_id: int) -> None:
        """Undo `mark_notified` for `wave_id` (the message did not go out)."""


class PollReader(Protocol):
    """Chats the bot is in, the polls run there, census votes and the admins' audit log."""

    async def get_chat(self, chat_key: bytes) -> ChatRecord | None: ...

    async def active_chats(self) -> list[ChatRecord]: ...

    async def get_poll(self, poll_id: int) -> Poll | None: ...

    async def poll_by_telegram_id(self, telegram_poll_id: str) -> Poll | None: ...

    async def poll_by_message(self, chat_key: bytes, message_id: int) -> Poll | None:
        """The poll that message is, in its first chat or as a pooled copy."""

    async def chat_polls(
        self, chat_key: bytes, limit: int, thread_id: int | None = None
    ) -> list[Poll]:
        """Open polls first, then the most recently closed; pooled ones in every chat; of one
        forum topic if given (a pooled copy in another chat is listed in all its topics)."""

    async def copies(self, poll_id: int) -> list[PollCopy]:
        """Every posted message of the poll, its first chat's first."""

    async def results_due(self, poll_id: int | None = None) -> list[ResultsDue]:
        """Results not yet posted (of one poll, or of all), oldest poll first."""

    async def open_polls(self) -> list[Poll]: ...

    async def get_vote(self, poll_id: int, voter: bytes) -> tuple[int, ...]: ...

    async def census_tallies(self, poll_id: int, options: int) -> tuple[int, ...]: ...

    async def unshown_voters(self, poll_id: int) -> int:
        """How many people voted or changed their vote since the census counts last shown."""

    async def polls_closed_between(self, start: dt.date, end: dt.date) -> list[Poll]: ...


class PollRepository(PollReader, Protocol):
    async def save_chat(self, chat: ChatRecord) -> None: ...

    async def create_poll(
        self,
        chat_key: bytes,
        kind: str,
        question: str,
        options: tuple[str, ...],
        multiple: bool,
        opened_on: dt.date,
        close_at: dt.datetime | None,
        voter_key_sealed: bytes | None,
        locale: str,
        hidden_counts: bool = False,
        thread_id: int | None = None,
    ) -> Poll: ...

    async def attach_message(
        self, poll_id: int, message_id: int, telegram_poll_id: str | None
    ) -> None: ...

    async def delete_unposted(self, poll_id: int) -> None:
        """Drop a poll Telegram refused to post (one with no message yet)."""

    async def add_copy(self, poll_id: int, chat_key: bytes, message_id: int) -> None:
        """The pooled poll was also posted in this chat, or posted there again (the chat got
        a new id): `message_id` replaces the copy's old one."""

    async def queue_results(self, poll_id: int, chat_key: bytes, message_id: int | None) -> None:
        """Results to post in this chat, in the close's own unit of work (once per chat)."""

    async def advance_results(
        self, poll_id: int, chat_key: bytes, stage: str, results_message_id: int | None = None
    ) -> None:
        """Move the chat's results on: to `results`, `posted` or `refused`."""

    async def set_tallies(self, poll_id: int, tallies: tuple[int, ...]) -> None: ...

    async def close_poll(self, poll_id: int, closed_on: dt.date, tallies: tuple[int, ...]) -> bool:
        """Close it, destroying a census poll's voter key and votes (the tallies stay);
        False if it was already closed."""

    async def vote(self, poll_id: int, voter: bytes, choice: tuple[int, ...]) -> bool:
        """Record or replace a census vote, or withdraw it with an empty choice, in one
        statement that checks the poll is still open; False if nothing changed (closed).
        A recorded vote counts as unshown until `mark_votes_shown`."""

    async def mark_votes_shown(self, poll_id: int) -> None:
        """The census counts were just shown: no vote is unshown any more."""

    async def audit(
        self, at_hour: str, action: str, chat_key: bytes, admin: str, poll_id: int | None
    ) -> None: ...

    async def move_chat(self, old_key: bytes, new: ChatRecord) -> bool:
        """The chat got a new id (a group upgraded to a supergroup): its record, polls and
        audit entries move to `new`'s key, the polls without their messages (left in the old
        chat); False if the old chat was not known."""

    async def forget_admin(self, admin: str) -> None:
        """The admin asked to be forgotten: their audit entries stay, no longer theirs."""


class DigestReader(Protocol):
    """The digests posted, so that no period is posted twice."""

    async def get(self, period_key: str) -> DigestRecord | None: ...

    async def last_posted(self) -> DigestRecord | None:
        """The most recent digest that went out (its figures are the next one's baseline)."""

    async def unfinished(self, claimed_since: dt.datetime) -> list[DigestRecord]:
        """Digests claimed since then that are still `posting` or `failed`, oldest first."""


class DigestRepository(DigestReader, Protocol):
    async def claim(
        self, period_key: str, kind: str, claimed_at: dt.datetime, snapshot: str
    ) -> bool:
        """Reserve the period before posting; False if it was claimed already."""

    async def record_parts(self, period_key: str, message_ids: tuple[int, ...]) -> None:
        """The parts sent so far, so that finishing it later sends none of them again."""

    async def mark_posted(self, period_key: str, message_ids: tuple[int, ...]) -> None: ...

    async def mark_failed(self, period_key: str) -> None: ...


class ClaimRepository(Protocol):
    """Claims on work several instances share (`poll-close:<id>`, ...): one holder at a time,
    until the claim lapses; nothing in them names a person."""

    async def claim(self, name: str, holder: str, now: dt.datetime, until: dt.datetime) -> bool:
        """Hold `name` until `until`; True if it was free, lapsed by `now`, or `holder`'s."""

    async def release(self, name: str, holder: str) -> None:
        """Give up the claim, if `holder` holds it."""

    async def release_all(self, holder: str) -> int:
        """Give up every claim `holder` holds (it is stopping); how many."""


class Transaction(Protocol):
    """One unit of work: every repository, reading and writing the same uncommitted state."""

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

    @property
    def polls(self) -> PollRepository: ...

    @property
    def digests(self) -> DigestRepository: ...

    @property
    def claims(self) -> ClaimRepository: ...


class Storage(Protocol):
    """Everything the bot persists. The properties only read committed data (long reads never
    hold up writers); every write goes through `transaction()` (`write_dialogue` is one)."""

    @property
    def meta(self) -> MetaReader: ...

    @property
    def preferences(self) -> PreferencesReader: ...

    @property
    def fsm(self) -> FsmReader: ...

    @property
    def knowledge_stats(self) -> KnowledgeStatsReader: ...

    @property
    def survey(self) -> SurveyReader: ...

    @property
    def subscriptions(self) -> SubscriptionReader: ...

    @property
    def polls(self) -> PollReader: ...

    @property
    def digests(self) -> DigestReader: ...

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """`async with storage.transaction() as tx:` commits on success and rolls back on an
        exception; transactions run one at a time and do not nest."""

    async def write_dialogue(
        self, key: str, blob: bytes | None, wave_id: int | None = None
    ) -> None:
        """Save one dialogue's state (`FsmRepository.save`; None deletes it) as a transaction
        of its own: the unit of work of every dialogue step, made cheap where it can be."""

    async def checkpoint_truncate(self) -> bool:
        """Push committed deletions out of every journal onto the main file, retrying briefly
        while a reader blocks it; False if it could not finish yet (it finishes in the
        background)."""

    async def close(self) -> None: ...
