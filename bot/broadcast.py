"""Telling subscribers that a new survey wave is open.

At most 25 sends in any one-second window, as Telegram sees them; a 429 is waited out
(retry_after) and retried, as are 5xx, network errors and a proxy's non-JSON page; only a
subscriber who blocked the bot or whose account is deactivated is dropped, never on any other
refusal. Each subscriber is marked as told *before* the message goes out, and the mark and the
send run to their end even when the broadcast is stopped: a graceful stop loses nobody, a
kill -9 can at worst skip the one person between mark and send, and nobody is messaged twice.

Several instances sharing the database send one at a time, so together they stay within the
limit: the sender holds the wave's claim, renewed batch by batch; the others look again every
few seconds and take over once it is released or has lapsed (its holder died). The mark only
succeeds for someone not yet told, so even two senders could never tell anyone twice.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import html
import logging
import math
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.shared.send_limit import SendLimit
from services.claims import Claims, wave_broadcast_claim
from services.privacy import Keyring
from services.survey.subscriptions import open_subscriber
from storage import Storage, Subscriber

logger = logging.getLogger(__name__)

T = TypeVar("T")

MESSAGES_PER_SECOND = 25
BATCH = 200
MAX_ATTEMPTS = 5
# How long the sending instance holds the wave's claim; it renews it at half that.
BROADCAST_CLAIM = dt.timedelta(seconds=30)
# How often an instance that finds another one sending looks again.
TAKEOVER_CHECK_SECONDS = 5.0
# What Telegram says when a person is gone for good; any other refusal keeps them subscribed.
GONE_FOR_GOOD = ("blocked by the user", "user is deactivated")


class SendWindow:
    """At most `rate` sends in any one-second window, wherever a send is timed between us and
    Telegram: each holds its place from its start until one second after its reply came
    back. Starts are also spread out (1/rate apart) rather than bunched."""

    def __init__(self, rate: int) -> None:
        self._rate = rate
        self._gap = 1.0 / rate
        self._leaving: collections.deque[float] = collections.deque()  # when finished sends leave
        self._sending = 0
        self._last_start = -math.inf
        self._released = asyncio.Event()

    async def acquire(self) -> None:
        """Wait for a place in the window; `release` it once the send has its reply."""
        while True:
            now = time.monotonic()
            while self._leaving and self._leaving[0] <= now:
                self._leaving.popleft()
            wait = self._last_start + self._gap - now
            if len(self._leaving) + self._sending >= self._rate:
                if not self._leaving:  # every place is held by a send still under way
                    self._released.clear()
                    await self._released.wait()
                    continue
                wait = max(wait, self._leaving[0] - now)
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        self._sending += 1
        self._last_start = now

    async def release(self) -> None:
        self._sending -= 1
        self._leaving.append(time.monotonic() + 1.0)
        self._released.set()


@dataclass(frozen=True)
class _Outcome:
    delivered: bool = False
    retry_in: float | None = None  # a refusal worth trying again, after this many seconds


class WaveBroadcaster:
    def __init__(
        self,
        bot: Bot,
        storage: Storage,
        keyring: Keyring,
        i18n: I18n,
        claims: Claims,
        window: SendLimit | None = None,
    ) -> None:
        self._bot = bot
        self._storage = storage
        self._keyring = keyring
        self._i18n = i18n
        self._claims = claims
        # Shared by every instance when they share Redis.
        self._window = window or SendWindow(MESSAGES_PER_SECOND)
        self._task: asyncio.Task[int] | None = None
        self._renew_at = -math.inf  # when the claim held is due for renewal (monotonic)

    def start(self, wave_id: int, label: str) -> None:
        """Start telling subscribers about the wave, unless that is already under way."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(wave_id, label), name="wave-broadcast")
            self._task.add_done_callback(_log_crash)

    async def resume(self) -> None:
        """Carry on with the open wave's broadcast if anyone is still untold (a restart or
        another instance's death interrupted it)."""
        wave = await self._storage.survey.current_wave()
        if wave is not None and await self._storage.subscriptions.pending(wave.id, 1):
            self.start(wave.id, wave.label)

    async def wait(self) -> int:
        """Wait for the current broadcast; returns how many messages it sent."""
        return 0 if self._task is None else await self._task

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run(self, wave_id: int, label: str) -> int:
        """Tell everyone untold, taking turns with other instances; how many this one told."""
        claim = wave_broadcast_claim(wave_id)
        sent = 0
        self._renew_at = -math.inf
        try:
            while await self._storage.subscriptions.pending(wave_id, 1):
                if not await self._hold(claim):
                    await asyncio.sleep(TAKEOVER_CHECK_SECONDS)  # another instance is sending
                    continue
                for subscriber in await self._storage.subscriptions.pending(wave_id, BATCH):
                    if not await self._hold(claim):
                        break  # it lapsed and another instance took over
                    if await self._tell(subscriber, wave_id, label):
                        sent += 1
        finally:
            await _run_to_the_end(self._claims.give_up(claim))
        logger.info("New-wave broadcast finished: %d messages", sent)
        return sent

    async def _hold(self, claim: str) -> bool:
        """Whether this instance holds the claim, renewing it once half of it has passed."""
        if time.monotonic() < self._renew_at:
            return True
        if not await self._claims.take(claim, BROADCAST_CLAIM):
            return False
        self._renew_at = time.monotonic() + BROADCAST_CLAIM.total_seconds() / 2
        return True

    async def _tell(self, subscriber: Subscriber, wave_id: int, label: str) -> bool:
        """Every path leaves the subscriber told, dropped or (when stopped) untold."""
        record = open_subscriber(self._keyring, subscriber.chat_sealed)
        if record is None:
            await self._unsubscribe(subscriber)
            return False
        with self._i18n.context(), self._i18n.use_locale(record.locale):
            text = _(
                "📋 A new Vyraj survey wave is open: {label}. Send /survey to take part; it "
                "takes about two minutes. To stop these messages: /notify"
            ).format(label=html.escape(label))
        for attempt in range(1, MAX_ATTEMPTS + 1):
            await self._window.acquire()  # a stop while waiting here leaves them untold
            outcome = await _run_to_the_end(
                self._attempt(subscriber, wave_id, record.chat_id, text, attempt)
            )
            if outcome.retry_in is None:
                return outcome.delivered
            await asyncio.sleep(outcome.retry_in)  # untold again meanwhile
        logger.warning("A new-wave message could not be delivered after %d tries", MAX_ATTEMPTS)
        return False

    async def _attempt(
        self, subscriber: Subscriber, wave_id: int, chat_id: int, text: str, attempt: int
    ) -> _Outcome:
        """Mark as told, send once, and unmark if the send is to be tried again; nothing is
        sent to someone another instance has told meanwhile."""
        try:
            async with self._storage.transaction() as tx:
                if not await tx.subscriptions.mark_notified(subscriber.subscriber, wave_id):
                    return _Outcome()
            outcome = await self._send(subscriber, chat_id, text, attempt)
        finally:
            await self._window.release()
        if outcome.retry_in is not None and attempt < MAX_ATTEMPTS:
            async with self._storage.transaction() as tx:
                await tx.subscriptions.unmark_notified(subscriber.subscriber, wave_id)
            return outcome
        return _Outcome(delivered=outcome.delivered)

    async def _send(
        self, subscriber: Subscriber, chat_id: int, text: str, attempt: int
    ) -> _Outcome:
        try:
            await self._bot.send_message(chat_id, text)
        except TelegramRetryAfter as exc:
            return _Outcome(retry_in=exc.retry_after)
        except (TelegramServerError, TelegramNetworkError, ClientDecodeError):
            return _Outcome(retry_in=min(2**attempt, 30))
        except TelegramAPIError as exc:
            if isinstance(exc, TelegramForbiddenError) and _gone_for_good(exc.message):
                await self._unsubscribe(subscriber)
            else:
                logger.warning("Telegram refused a new-wave message: %s", exc.message)
            return _Outcome()
        return _Outcome(delivered=True)

    async def _unsubscribe(self, subscriber: Subscriber) -> None:
        async with self._storage.transaction() as tx:
            await tx.subscriptions.unsubscribe(subscriber.subscriber)


def _gone_for_good(description: str) -> bool:
    return any(reason in description.lower() for reason in GONE_FOR_GOOD)


async def _run_to_the_end(work: Awaitable[T]) -> T:
    """Await `work`; a cancel meanwhile lets it finish first (a send that may have reached
    Telegram is recorded), then stops the caller."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise


def _log_crash(task: asyncio.Task[int]) -> None:
    """A broadcast that died says so, rather than vanishing with the task."""
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.error("The new-wave broadcast stopped", exc_info=error)
