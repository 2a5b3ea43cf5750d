"""Posting a closed poll's results in every chat it ran in, from the outbox its close wrote.

Each chat's row moves close -> results -> posted: the poll is stopped (or the census message
loses its buttons), the results are posted, and the row is marked posted as soon as Telegram
accepts them. A 429 is waited out; 5xx, network errors and a proxy's non-JSON page are retried
with backoff; any other refusal is final (one log line, marked refused). What a crash or an
outage leaves is sent at the next start, and retried in the background meanwhile. The one
repeat left possible: Telegram accepted the results but the bot died (or lost the reply)
before marking them, so they go out a second time; never more than that.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile
from aiogram.utils.i18n import I18n

from bot.chart_process import ChartProcess
from bot.shared.send_limit import SendLimit, place_in
from services.charts import Chart, bar_chart
from services.claims import Claims, poll_results_claim
from services.clock import SystemClock
from services.polls.render import ResultsView, census_text, results_view
from services.privacy import Keyring
from storage import Poll, ResultsDue, Storage

logger = logging.getLogger(__name__)
T = TypeVar("T")

CHART_MIN_OPTIONS = 3
CAPTION_LIMIT = 1024  # Telegram's limit on a photo's caption
# Telegram's answers that mean the step was done already (a retry after a lost reply).
ALREADY_DONE = ("message is not modified", "poll has already been closed")
# How long an instance holds one chat's results: a round of attempts fits well within it.
RESULTS_CLAIM = dt.timedelta(minutes=10)


class Outcome(enum.Enum):
    DONE = "done"
    REFUSED = "refused"  # for good: retrying cannot help
    PENDING = "pending"  # still failing after this round's attempts


class ResultsCourier:
    """Sends the outbox's due results, each chat's at most once at a time."""

    def __init__(
        self,
        bot: Bot,
        storage: Storage,
        keyring: Keyring,
        i18n: I18n,
        min_cell_size: int,
        charts: ChartProcess,
        *,
        attempts: int = 5,
        first_delay: float = 0.5,
        max_delay: float = 30.0,
        round_delay: float = 60.0,
        claims: Claims | None = None,
        send_limit: SendLimit | None = None,
    ) -> None:
        self._bot, self._storage, self._keyring, self._i18n = bot, storage, keyring, i18n
        self._min_cell_size, self._charts = min_cell_size, charts
        self._attempts, self._first_delay, self._max_delay = attempts, first_delay, max_delay
        self._round_delay = round_delay
        # Instances sharing the database post each chat's results once between them.
        self._claims = claims or Claims(storage, SystemClock())
        self._send_limit = send_limit  # shared with the broadcast, across instances too
        self._in_hand: set[tuple[int, bytes]] = set()
        self._task: asyncio.Task[None] | None = None

    async def deliver(self, poll_id: int | None = None) -> int:
        """Post what is due (one poll's, or everything); returns how many chats still wait
        (they are retried in the background)."""
        waiting = 0
        for due in await self._storage.polls.results_due(poll_id):
            key = (due.poll_id, due.chat_key)
            if key in self._in_hand:
                continue  # another delivery is sending it right now
            self._in_hand.add(key)
            try:
                if not await self._deliver_one(due):
                    waiting += 1
            finally:
                self._in_hand.discard(key)
        if waiting:
            self._start_background(self._round_delay)
        return waiting

    def resume(self) -> None:
        """At start: send, in the background, what a crash or an outage left unsent."""
        self._start_background(0.0)

    async def settled(self) -> None:
        """Return once the background sending has nothing left to do (or was stopped)."""
        while self._task is not None and not self._task.done():
            await asyncio.wait({self._task})

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.wait({self._task})

    def _start_background(self, delay: float) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(delay), name="poll-results")
            self._task.add_done_callback(_log_crash)

    async def _drain(self, delay: float) -> None:
        while True:
            await asyncio.sleep(delay)
            if not await self.deliver():
                return
            delay = self._round_delay

    async def _deliver_one(self, listed: ResultsDue) -> bool:
        """One chat's step(s), under this run's claim on them; True once nothing is left to
        do there."""
        claim = poll_results_claim(listed.poll_id, listed.chat_key)
        if not await self._claims.take(claim, RESULTS_CLAIM):
            return False  # another instance is posting them; looked at again next round
        # Read again now that it is claimed: a delivery that listed it earlier may be done.
        due = next(
            (
                current
                for current in await self._storage.polls.results_due(listed.poll_id)
                if current.chat_key == listed.chat_key
            ),
            None,
        )
        if due is not None and not await self._deliver_claimed(due):
            return False  # still held: retried in the next round here, or once it lapses
        await self._claims.give_up(claim)
        return True

    async def _deliver_claimed(self, due: ResultsDue) -> bool:
        poll = await self._storage.polls.get_poll(due.poll_id)
        chat = await self._storage.polls.get_chat(due.chat_key)
        if poll is None or chat is None:
            await self._advance(due, "refused")
            return True
        chat_id = self._keyring.open_chat(chat.chat_sealed)[0]
        with self._i18n.context(), self._i18n.use_locale(poll.locale):
            if due.stage == "close":
                closing, _ = await self._attempt(
                    poll.id, "closing", lambda: self._close_copy(chat_id, poll, due.message_id)
                )
                if closing is Outcome.PENDING:
                    return False
                await self._advance(due, "results")  # refused too: the results still go out
            view = results_view(poll, self._min_cell_size)
            # Drawn once, however many tries the post takes; in the chart process (it is slow).
            chart_plan = self._chart(poll, view)
            chart = await self._charts.draw(chart_plan) if chart_plan is not None else None
            # In the poll's own chat, its forum topic; a pooled copy elsewhere is in General.
            topic = poll.thread_id if due.chat_key == poll.chat_key else None
            posting, message_id = await self._attempt(
                poll.id, "results", lambda: self._post_results(chat_id, topic, view, chart, poll)
            )
        if posting is Outcome.PENDING:
            return False
        await self._advance(due, "posted" if posting is Outcome.DONE else "refused", message_id)
        return True

    async def _attempt(
        self, poll_id: int, what: str, call: Callable[[], Awaitable[T]]
    ) -> tuple[Outcome, T | None]:
        """`call()`, retried as Telegram's answer says, up to this round's attempts."""
        delay = self._first_delay
        for attempt in range(1, self._attempts + 1):
            try:
                return Outcome.DONE, await call()
            except TelegramRetryAfter as exc:
                wait = float(exc.retry_after)
                if wait > self._max_delay:
                    break  # a long ban: the background round retries, no caller waits it out
            except (TelegramServerError, TelegramNetworkError, ClientDecodeError):
                wait, delay = delay, min(delay * 2, self._max_delay)
            except TelegramAPIError as exc:
                if any(done in exc.message for done in ALREADY_DONE):
                    return Outcome.DONE, None
                logger.warning("Poll %d: Telegram refused its %s: %s", poll_id, what, exc.message)
                return Outcome.REFUSED, None
            if attempt < self._attempts:
                await asyncio.sleep(wait)
        logger.warning("Poll %d: its %s failed %d times; retried later", poll_id, what, attempt)
        return Outcome.PENDING, None

    async def _close_copy(self, chat_id: int, poll: Poll, message_id: int | None) -> None:
        if message_id is None:
            return
        if poll.kind == "native":
            await self._bot.stop_poll(chat_id, message_id)
        else:
            text = census_text(poll, self._min_cell_size)
            await self._bot.edit_message_text(text, chat_id=chat_id, message_id=message_id)

    @staticmethod
    def _chart(poll: Poll, view: ResultsView) -> Chart | None:
        chartable = view.bars and len(poll.options) >= CHART_MIN_OPTIONS
        if not chartable or len(view.text) > CAPTION_LIMIT:
            return None
        return bar_chart(poll.question, view.bars, shares=view.shares)

    async def _post_results(
        self,
        chat_id: int,
        thread_id: int | None,
        view: ResultsView,
        chart: bytes | None,
        poll: Poll,
    ) -> int:
        async with place_in(self._send_limit):
            if chart is not None:
                photo = BufferedInputFile(chart, filename=f"poll-{poll.id}.png")
                sent = await self._bot.send_photo(
                    chat_id, photo, caption=view.text, message_thread_id=thread_id
                )
            else:
                sent = await self._bot.send_message(
                    chat_id, view.text, message_thread_id=thread_id
                )
        return sent.message_id

    async def _advance(self, due: ResultsDue, stage: str, message_id: int | None = None) -> None:
        async with self._storage.transaction() as tx:
            await tx.polls.advance_results(due.poll_id, due.chat_key, stage, message_id)


def _log_crash(task: asyncio.Task[None]) -> None:
    """Background sending that died says so, rather than vanishing with the task."""
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.error("Posting poll results stopped", exc_info=error)
