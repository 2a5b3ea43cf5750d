"""Telling subscribers that a new survey wave is open.

At most 25 messages a second; a 429 is waited out (retry_after) and retried, as are 5xx, network
errors and a proxy's non-JSON page; only a subscriber who blocked the bot or whose account is
deactivated is dropped, never on any other refusal. Each subscriber is marked as told
*before* the message goes out, so a crash can at worst skip one person, never message anyone
twice, and a restart carries on with the rest.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import html
import logging
import time

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

from services.privacy import Keyring
from services.survey.subscriptions import open_subscriber
from storage import Storage, Subscriber

logger = logging.getLogger(__name__)

MESSAGES_PER_SECOND = 25
BATCH = 200
MAX_ATTEMPTS = 5
# What Telegram says when a person is gone for good; any other refusal keeps them subscribed.
GONE_FOR_GOOD = ("blocked by the user", "user is deactivated")


class Pacer:
    """At most `rate` calls in any one-second window (a sliding window, with a small margin
    for network jitter), and calls spread out rather than bunched."""

    MARGIN = 0.05

    def __init__(self, rate: int) -> None:
        self._rate = rate
        self._recent: collections.deque[float] = collections.deque(maxlen=rate)

    async def wait(self) -> None:
        now = time.monotonic()
        if self._recent:
            # Spread calls evenly: no closer than 1/rate to the previous one.
            gap = self._recent[-1] + 1.0 / self._rate - now
            if gap > 0:
                await asyncio.sleep(gap)
                now = time.monotonic()
        if len(self._recent) == self._rate:
            window = self._recent[0] + 1.0 + self.MARGIN - now
            if window > 0:
                await asyncio.sleep(window)
                now = time.monotonic()
        self._recent.append(now)


class WaveBroadcaster:
    def __init__(
        self,
        bot: Bot,
        storage: Storage,
        keyring: Keyring,
        i18n: I18n,
        rate: int = MESSAGES_PER_SECOND,
    ) -> None:
        self._bot = bot
        self._storage = storage
        self._keyring = keyring
        self._i18n = i18n
        self._pacer = Pacer(rate)
        self._task: asyncio.Task[int] | None = None

    def start(self, wave_id: int, label: str) -> None:
        """Start telling subscribers about the wave, unless that is already under way."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(wave_id, label), name="wave-broadcast")
            self._task.add_done_callback(_log_crash)

    async def wait(self) -> int:
        """Wait for the current broadcast; returns how many messages it sent."""
        return 0 if self._task is None else await self._task

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run(self, wave_id: int, label: str) -> int:
        sent = 0
        while batch := await self._storage.subscriptions.pending(wave_id, BATCH):
            for subscriber in batch:
                async with self._storage.transaction() as tx:
                    await tx.subscriptions.mark_notified(subscriber.subscriber, wave_id)
                if await self._tell(subscriber, label):
                    sent += 1
        logger.info("New-wave broadcast finished: %d messages", sent)
        return sent

    async def _tell(self, subscriber: Subscriber, label: str) -> bool:
        record = open_subscriber(self._keyring, subscriber.chat_sealed)
        if record is None:
            await self._unsubscribe(subscriber)
            return False
        chat_id = record.chat_id
        with self._i18n.context(), self._i18n.use_locale(record.locale):
            text = _(
                "📋 A new Vyraj survey wave is open: {label}. Send /survey to take part; it "
                "takes about two minutes. To stop these messages: /notify"
            ).format(label=html.escape(label))
        for attempt in range(1, MAX_ATTEMPTS + 1):
            await self._pacer.wait()
            try:
                await self._bot.send_message(chat_id, text)
                return True
            except TelegramRetryAfter as exc:
                await asyncio.sleep(exc.retry_after)
            except (TelegramServerError, TelegramNetworkError, ClientDecodeError):
                await asyncio.sleep(min(2**attempt, 30))
            except TelegramAPIError as exc:
                if isinstance(exc, TelegramForbiddenError) and _gone_for_good(exc.message):
                    await self._unsubscribe(subscriber)
                else:
                    logger.warning("Telegram refused a new-wave message: %s", exc.message)
                return False
        logger.warning("A new-wave message could not be delivered after %d tries", MAX_ATTEMPTS)
        return False

    async def _unsubscribe(self, subscriber: Subscriber) -> None:
        async with self._storage.transaction() as tx:
            await tx.subscriptions.unsubscribe(subscriber.subscriber)


def _gone_for_good(description: str) -> bool:
    return any(reason in description.lower() for reason in GONE_FOR_GOOD)


def _log_crash(task: asyncio.Task[int]) -> None:
    """A broadcast that died says so, rather than vanishing with the task."""
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.error("The new-wave broadcast stopped", exc_info=error)
