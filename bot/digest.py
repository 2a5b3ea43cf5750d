"""Posting the digest: on its cron schedule (in TIMEZONE), on start when one was missed within
DIGEST_GRACE, or on demand. A period is claimed in SQLite before anything is sent, so it is
never posted twice; Telegram's 429, 5xx and network errors are retried with backoff."""

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
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import I18n
from apscheduler.triggers.cron import CronTrigger

from services.clock import Clock
from services.digest import Digest, Snapshot, build_digest
from services.digest_report import headline, render_digest_body, render_digest_chart
from services.knowledge.library import KnowledgeLibrary
from services.survey.report import join_parts
from services.survey.snapshot import published_figures
from services.survey.waves import published_aggregates
from storage import Storage

logger = logging.getLogger(__name__)
T = TypeVar("T")
MAX_ATTEMPTS = 6
DEFAULT_PERIOD = dt.timedelta(days=7)


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
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._bot, self._storage, self._library, self._i18n = bot, storage, library, i18n
        self._k, self._chat_id, self._locale, self._grace = k, chat_id, locale, grace
        self._zone = ZoneInfo(timezone)
        self.trigger = CronTrigger.from_crontab(schedule, timezone=self._zone)
        self._clock = clock
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
        now = now or self.now()
        return await self.post(f"manual:{now.isoformat()}", "manual", now)

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
            try:
                message_ids = await self._send(self._chat_id, composed)
            except TelegramAPIError:
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
        await self._send(chat_id, await self.compose(self.now()))

    async def compose(self, now: dt.datetime) -> ComposedDigest:
        storage, k = self._storage, self._k
        waves = await storage.survey.recent_waves(2)
        wave = waves[0] if waves else None
        previous = waves[1] if len(waves) > 1 else None
        last = await storage.digests.last_posted()
        baseline = Snapshot.from_json(last.snapshot) if last else None
        since = last.claimed_at.date() if last else (now - DEFAULT_PERIOD).date()
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
            unanswered=len(await storage.knowledge_stats.top_unanswered(100_000)),
        )
        base = self._library.base
        with self._i18n.context(), self._i18n.use_locale(self._locale):

            def title(article_id: str) -> str:
                article = base.get(article_id, self._locale)
                return article.title if article else article_id

            caption = headline(digest)
            body = render_digest_body(digest, title)
            chart = render_digest_chart(digest)
        # With a chart the headline is its caption and the body follows; else all as text.
        messages = join_parts(body if chart is not None else [caption, *body])
        return ComposedDigest(digest, snapshot, messages, caption, chart)

    async def _send(self, chat_id: int | str, composed: ComposedDigest) -> list[int]:
        assert self._bot is not None
        bot = self._bot
        sent: list[int] = []
        messages = composed.messages
        if composed.chart is not None:
            photo = BufferedInputFile(composed.chart, filename="vyraj-digest.png")
            message = await self._retrying(
                lambda: bot.send_photo(chat_id, photo, caption=composed.caption)
            )
            sent.append(message.message_id)
        for text in messages:

            def send(text: str = text) -> Awaitable[Message]:
                return bot.send_message(chat_id, text)

            sent.append((await self._retrying(send)).message_id)
        return sent

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        """Retry what Telegram says to retry; a request it refused is never repeated."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return await call()
            except TelegramRetryAfter as exc:
                if attempt == MAX_ATTEMPTS:
                    raise
                await self._sleep(exc.retry_after)
            except (TelegramServerError, TelegramNetworkError):
                if attempt == MAX_ATTEMPTS:
                    raise
                await self._sleep(min(2.0**attempt, 60.0))
        raise AssertionError("unreachable")
