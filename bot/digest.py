"""Posting the digest: on its cron schedule (in TIMEZONE), on start when one was missed within
DIGEST_GRACE, or on demand (once a day). A period is claimed in SQLite before anything is sent
and each part is recorded before and after it goes out, so a digest cut short (a crash, a
failure) is finished at the next start within DIGEST_GRACE without any part posted twice.
Telegram's 429, 5xx, network errors and a proxy's non-JSON page are retried with backoff."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import I18n
from apscheduler.triggers.cron import CronTrigger

from bot.chart_process import ChartProcess
from services.clock import Clock
from services.digest import Digest, Snapshot, build_digest
from services.digest_report import digest_chart, headline, render_digest_body
from services.knowledge.library import KnowledgeLibrary
from services.knowledge.view_counts import ViewCounts
from services.survey.report import join_parts
from services.survey.snapshot import published_figures
from services.survey.waves import published_aggregates
from storage import DigestRecord, Storage

logger = logging.getLogger(__name__)
T = TypeVar("T")
MAX_ATTEMPTS = 6
DEFAULT_PERIOD = dt.timedelta(days=7)
# The message id recorded for a part while it is being sent.
IN_FLIGHT = 0


@dataclass(frozen=True)
class ComposedDigest:
    digest: Digest
    snapshot: Snapshot
    messages: list[str]
    caption: str
    chart: bytes | None


class DigestService:
    def __init__(
        self,
        bot: Bot | None,
        storage: Storage,
        library: KnowledgeLibrary,
        i18n: I18n,
        *,
        k: int,
        chat_id: str | None,
        locale: str,
        schedule: str,
        timezone: str,
        grace: dt.timedelta,
        clock: Clock,
        charts: ChartProcess,
        view_counts: ViewCounts,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        thread_id: int | None = None,
    ) -> None:
        self._bot, self._storage, self._library, self._i18n = bot, storage, library, i18n
        self._k, self._chat_id, self._locale, self._grace = k, chat_id, locale, grace
        self._thread_id = thread_id
        self._zone = ZoneInfo(timezone)
        self.trigger = CronTrigger.from_crontab(schedule, timezone=self._zone)
        self._clock = clock
        self._charts, self._view_counts = charts, view_counts
        self._sleep = sleep
        self._lock = asyncio.Lock()

    def now(self) -> dt.datetime:
        return self._clock.local_now(self._zone)

    def due_period(self, now: dt.datetime) -> dt.datetime | None:
        """The latest scheduled time not after `now` and not older than the grace period."""
        last = None
        # In UTC, so that the grace period is real time across a DST change.
        fire = self.trigger.get_next_fire_time(None, now.astimezone(dt.UTC) - self._grace)
        while fire is not None and fire <= now:
            last = fire
            fire = self.trigger.get_next_fire_time(fire, fire + dt.timedelta(seconds=1))
        return last

    async def run_due(self, now: dt.datetime | None = None) -> bool:
        """Post the digest of the current period unless it went out already; True if posted."""
        now = now or self.now()
        period = self.due_period(now)
        if period is None or self._chat_id is None:
            return False
        return await self.post(period.isoformat(), "scheduled", now)

    async def post_now(self, now: dt.datetime | None = None) -> bool:
        """Post the digest now, at most once a (local) day: a repeated command posts nothing."""
        now = now or self.now()
        return await self.post(_manual_key(now), "manual", now)

    async def posted_now_today(self) -> bool:
        """Whether today's `post_now` happened (or is under way) already."""
        return await self._storage.digests.get(_manual_key(self.now())) is not None

    async def finish_unfinished(self, now: dt.datetime | None = None) -> int:
        """At start: finish the digests claimed within DIGEST_GRACE that a crash or a failure
        cut short, sending only the parts not sent yet; returns how many were finished."""
        now = now or self.now()
        if self._bot is None or self._chat_id is None:
            return 0
        finished = 0
        async with self._lock:
            for record in await self._storage.digests.unfinished(now - self._grace):
                finished += await self._deliver(record, await self.compose(now))
        return finished

    async def post(self, period_key: str, kind: str, now: dt.datetime) -> bool:
        if self._bot is None or self._chat_id is None:
            return False
        async with self._lock:
            if await self._storage.digests.get(period_key) is not None:
                return False
            composed = await self.compose(now)
            async with self._storage.transaction() as tx:
                claimed = await tx.digests.claim(
                    period_key, kind, now, composed.snapshot.to_json()
                )
            if not claimed:
                return False
            record = await self._storage.digests.get(period_key)
            assert record is not None  # claimed just now
            return await self._deliver(record, composed)

    async def _deliver(self, record: DigestRecord, composed: ComposedDigest) -> bool:
        """Send the parts of `composed` that `record` has not sent yet; any failure, of
        whatever kind, leaves the digest `failed` to be finished at the next start."""
        assert self._chat_id is not None
        period_key = record.period_key
        try:
            message_ids = await self._send(self._chat_id, composed, record, self._thread_id)
        except Exception:
            logger.exception("The digest for %s could not be posted", period_key)
            async with self._storage.transaction() as tx:
                await tx.digests.mark_failed(period_key)
            return False
        async with self._storage.transaction() as tx:
            await tx.digests.mark_posted(period_key, tuple(message_ids))
        logger.info("Digest for %s posted", period_key)
        return True

    async def preview(self, chat_id: int) -> None:
        """The digest as it would go out now, to one chat; nothing is recorded."""
        await self._send(chat_id, await self.compose(self.now()), None)

    async def compose(self, now: dt.datetime) -> ComposedDigest:
        storage, k = self._storage, self._k
        waves = await storage.survey.recent_waves(2)
        wave = waves[0] if waves else None
        previous = waves[1] if len(waves) > 1 else None
        last = await storage.digests.last_posted()
        baseline = Snapshot.from_json(last.snapshot) if last else None
        since = last.claimed_at.date() if last else (now - DEFAULT_PERIOD).date()
        await self._view_counts.flush()  # the views of the last few seconds too
        stats = await storage.knowledge_stats.article_stats()
        # One read: the figures and their version come from the same publication.
        survey = await storage.survey.snapshot(wave.id) if wave else None
        digest, snapshot = build_digest(
            now=now,
            k=k,
            wave=wave,
            aggregates=published_figures(survey, k) if wave else None,
            survey_version=survey.version if survey else 0,
            baseline=baseline,
            baseline_date=since,
            previous_wave=previous,
            previous_aggregates=await published_aggregates(storage, previous.id, k)
            if previous
            else None,
            closed_polls=await storage.polls.polls_closed_between(
                since, now.date() + dt.timedelta(days=1)
            ),
            views={stat.article_id: stat.views for stat in stats},
            unanswered=await storage.knowledge_stats.count_unanswered(),
        )
        base = self._library.base
        with self._i18n.context(), self._i18n.use_locale(self._locale):

            def title(article_id: str) -> str:
                article = base.get(article_id, self._locale)
                return article.title if article else article_id

            caption = headline(digest)
            body = render_digest_body(digest, title)
            chart_plan = digest_chart(digest)
        # Drawing takes a fifth of a second of CPU: in the chart process, so other people's
        # updates go on.
        chart = await self._charts.draw(chart_plan) if chart_plan is not None else None
        # With a chart the headline is its caption and the body follows; else all as text.
        messages = join_parts(body if chart is not None else [caption, *body])
        return ComposedDigest(digest, snapshot, messages, caption, chart)

    async def _send(
        self,
        chat_id: int | str,
        composed: ComposedDigest,
        record: DigestRecord | None,
        thread_id: int | None = None,
    ) -> list[int]:
        """Send the parts in order (into forum topic `thread_id`, if set), skipping those
        `record` sent already and recording each new one before the next goes out; returns
        every part's message id."""
        assert self._bot is not None
        bot = self._bot
        sends: list[Callable[[], Awaitable[Message]]] = []
        if composed.chart is not None:
            photo = BufferedInputFile(composed.chart, filename="vyraj-digest.png")
            sends.append(
                lambda: bot.send_photo(
                    chat_id, photo, caption=composed.caption, message_thread_id=thread_id
                )
            )
        for text in composed.messages:

            def send(text: str = text) -> Awaitable[Message]:
                return bot.send_message(chat_id, text, message_thread_id=thread_id)

            sends.append(send)
        sent = list(record.message_ids) if record is not None else []
        for send_part in sends[len(sent) :]:
            # IN_FLIGHT first: a part a crash may have cut short counts as sent (at most once).
            await self._record(record, (*sent, IN_FLIGHT))
            try:
                sent.append((await self._retrying(send_part)).message_id)
            finally:
                await self._record(record, tuple(sent))  # known: sent, or refused
        return sent

    async def _record(self, record: DigestRecord | None, message_ids: tuple[int, ...]) -> None:
        if record is not None:
            async with self._storage.transaction() as tx:
                await tx.digests.record_parts(record.period_key, message_ids)

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        """Retry what Telegram says to retry; a request it refused is never repeated."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return await call()
            except TelegramRetryAfter as exc:
                if attempt == MAX_ATTEMPTS:
                    raise
                await self._sleep(exc.retry_after)
            except (TelegramServerError, TelegramNetworkError, ClientDecodeError):
                if attempt == MAX_ATTEMPTS:
                    raise
                await self._sleep(min(2.0**attempt, 60.0))
        raise AssertionError("unreachable")


def _manual_key(now: dt.datetime) -> str:
    """The period an on-demand digest claims: the local day, so a repeated command is a no-op."""
    return f"manual:{now.date().isoformat()}"
