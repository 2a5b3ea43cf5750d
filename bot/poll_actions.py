"""The Telegram side of polls: post them, keep census counts current, stop them and post the
results. Each step's records change through services/polls/."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Protocol

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, InputPollOption, Message
from aiogram.utils.i18n import I18n

from bot.callback_types import StoredId
from bot.keyboards import callback_button, inline_keyboard
from services.charts import bar_chart
from services.clock import Clock
from services.policy import Policy
from services.polls.closing import BY_THE_BOT, close_poll
from services.polls.parsing import PollDraft
from services.polls.publishing import record_poll, record_posted, withdraw_unposted
from services.polls.render import census_button_labels, census_text, results_view
from services.polls.voting import recount_census
from services.privacy import Keyring
from storage import Poll, Storage

logger = logging.getLogger(__name__)
CHART_MIN_OPTIONS = 3
CAPTION_LIMIT = 1024  # Telegram's limit on a photo's caption


class PollNotPosted(Exception):
    """Telegram refused to post the poll; the message is its reason."""


class PollVoteCallback(CallbackData, prefix="pv"):
    poll: StoredId
    option: StoredId


class PollCloseScheduler(Protocol):
    """Closes polls at their close time, across restarts."""

    def schedule_close(self, poll_id: int, when: dt.datetime) -> None: ...


def census_keyboard(poll: Poll, min_cell_size: int) -> InlineKeyboardMarkup | None:
    """One button per option with its count while the poll is open; none once closed."""
    if not poll.is_open:
        return None
    labels = census_button_labels(poll, min_cell_size)
    return inline_keyboard(
        [
            callback_button(label, PollVoteCallback(poll=poll.id, option=index))
            for index, label in enumerate(labels)
        ],
        1,
    )


class CensusRefresher:
    """Edits a census poll's counts at most once every `interval` seconds, however fast votes
    arrive (Telegram limits edits), and only when a new step of counts may be shown."""

    def __init__(
        self,
        bot: Bot,
        storage: Storage,
        keyring: Keyring,
        i18n: I18n,
        min_cell_size: int,
        interval: float,
    ) -> None:
        self._bot, self._storage, self._keyring = bot, storage, keyring
        self._i18n, self._min_cell_size, self._interval = i18n, min_cell_size, interval
        self._pending: dict[int, asyncio.Task[None]] = {}
        self._running: set[asyncio.Task[None]] = set()  # still waiting, or refreshing already

    def request(self, poll_id: int) -> None:
        if poll_id not in self._pending:
            task = asyncio.create_task(self._refresh_later(poll_id))
            self._pending[poll_id] = task
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def settled(self) -> None:
        """Return once the refreshes requested so far have run (or found nothing to show)."""
        await asyncio.gather(*list(self._running), return_exceptions=True)

    async def stop(self) -> None:
        for task in self._pending.values():
            task.cancel()
        await asyncio.gather(*self._pending.values(), return_exceptions=True)
        self._pending.clear()

    async def _refresh_later(self, poll_id: int) -> None:
        try:
            await asyncio.sleep(self._interval)
        finally:
            self._pending.pop(poll_id, None)
        poll = await recount_census(self._storage, poll_id, self._min_cell_size)
        if poll is None or poll.message_id is None:
            return  # no new step to show
        chat = await self._storage.polls.get_chat(poll.chat_key)
        if chat is None or not chat.active:
            return
        updated = await self._storage.polls.get_poll(poll.id)
        if updated is None or not updated.is_open:
            return  # closed meanwhile: the close draws the final message and posts the results
        with self._i18n.context(), self._i18n.use_locale(poll.locale):
            text = census_text(updated, self._min_cell_size)
        try:
            await self._bot.edit_message_text(
                text,
                chat_id=self._keyring.open_chat(chat.chat_sealed)[0],
                message_id=poll.message_id,
                reply_markup=census_keyboard(updated, self._min_cell_size),
            )
        except TelegramAPIError as exc:
            if "not modified" not in str(exc):
                logger.warning("Census poll %d could not be refreshed: %s", poll.id, exc)


class PollActions:
    """Posts, refreshes and closes polls in their chats, for /poll, /newpoll and the
    scheduler alike."""

    def __init__(
        self,
        bot: Bot,
        storage: Storage,
        keyring: Keyring,
        i18n: I18n,
        scheduler: PollCloseScheduler,
        policy: Policy,
        clock: Clock,
        refresh_seconds: float,
    ) -> None:
        self._bot, self._storage, self._keyring, self._i18n = bot, storage, keyring, i18n
        self._scheduler, self._policy, self._clock = scheduler, policy, clock
        self._refresher = CensusRefresher(
            bot, storage, keyring, i18n, policy.min_cell_size, refresh_seconds
        )

    async def publish(
        self, chat_id: int, draft: PollDraft, locale: str, admin_id: int | None
    ) -> Poll:
        """Record the poll, post it in the chat, schedule its close; audit the admin's action.
        Raises PollNotPosted, with no record left, when Telegram refuses the post."""
        now = self._clock.local_now(self._policy.timezone)
        poll = await record_poll(self._storage, self._keyring, chat_id, draft, locale, now)
        try:
            sent = await self._post(chat_id, poll)
        except TelegramAPIError as exc:
            await withdraw_unposted(self._storage, poll)
            raise PollNotPosted(exc.message) from exc
        telegram_poll_id = sent.poll.id if sent.poll else None
        opened_by = BY_THE_BOT if admin_id is None else self._keyring.audit_admin(admin_id)
        posted = await record_posted(
            self._storage, poll, sent.message_id, telegram_poll_id, opened_by, now
        )
        if draft.close_at is not None:
            self._scheduler.schedule_close(poll.id, draft.close_at)
        return posted

    async def _post(self, chat_id: int, poll: Poll) -> Message:
        if poll.kind == "census":
            keyboard = census_keyboard(poll, self._policy.min_cell_size)
            text = census_text(poll, self._policy.min_cell_size)
            return await self._bot.send_message(chat_id, text, reply_markup=keyboard)
        # Plain text, as typed: under the default HTML parse mode "<x>" is refused, "&amp;" lost.
        return await self._bot.send_poll(
            chat_id,
            question=poll.question,
            question_parse_mode=None,
            options=[InputPollOption(text=text, text_parse_mode=None) for text in poll.options],
            is_anonymous=True,
            allows_multiple_answers=poll.multiple,
        )

    def vote_recorded(self, poll_id: int) -> None:
        """A census vote changed: its counts on the buttons follow, in a while."""
        self._refresher.request(poll_id)

    async def census_settled(self) -> None:
        """Return once the census refreshes for the votes so far have run."""
        await self._refresher.settled()

    async def close(self, poll_id: int, closed_by: str = BY_THE_BOT) -> bool:
        """Close the poll (stopPoll, or the census message loses its buttons), destroy a census
        key, audit it as `closed_by`, and post the results. False if it was closed already."""
        now = self._clock.local_now(self._policy.timezone)
        outcome = await close_poll(self._storage, poll_id, now, closed_by)
        if outcome is None:
            return False
        poll, chat = outcome
        if chat is None or not chat.active:
            return True  # the bot left the chat: closed in the records only
        chat_id = self._keyring.open_chat(chat.chat_sealed)[0]
        with self._i18n.context(), self._i18n.use_locale(poll.locale):
            try:
                if poll.kind == "native" and poll.message_id is not None:
                    await self._bot.stop_poll(chat_id, poll.message_id)
                elif poll.message_id is not None:
                    text = census_text(poll, self._policy.min_cell_size)
                    await self._bot.edit_message_text(
                        text, chat_id=chat_id, message_id=poll.message_id
                    )
                await self._post_results(chat_id, poll)
            except TelegramAPIError as exc:
                logger.warning("Poll %d closed, but the chat could not be told: %s", poll.id, exc)
        return True

    async def stop(self) -> None:
        """Drop the census edits not made yet."""
        await self._refresher.stop()

    async def _post_results(self, chat_id: int, poll: Poll) -> None:
        view = results_view(poll, self._policy.min_cell_size)
        chartable = view.bars and len(poll.options) >= CHART_MIN_OPTIONS
        if chartable and len(view.text) <= CAPTION_LIMIT:
            chart = bar_chart(poll.question, list(view.bars), shares=view.shares)
            photo = BufferedInputFile(chart, filename=f"poll-{poll.id}.png")
            await self._bot.send_photo(chat_id, photo, caption=view.text)
        else:
            await self._bot.send_message(chat_id, view.text)
