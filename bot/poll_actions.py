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
from aiogram.types import InlineKeyboardMarkup, InputPollOption, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callback_types import StoredId
from bot.poll_results import ResultsCourier
from services.clock import Clock
from services.policy import Policy
from services.polls.closing import BY_THE_BOT, close_poll
from services.polls.parsing import PollDraft
from services.polls.publishing import may_pool, record_poll, record_posted, withdraw_unposted
from services.polls.render import census_button_labels, census_text
from services.polls.voting import recount_census
from services.privacy import Keyring
from storage import Poll, PollCopy, Storage

logger = logging.getLogger(__name__)


class PollNotPosted(Exception):
    """Telegram refused to post the poll; the message is its reason, `chat_id` where."""

    def __init__(self, reason: str, chat_id: int) -> None:
        super().__init__(reason)
        self.chat_id = chat_id


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
    builder = InlineKeyboardBuilder()
    for index, label in enumerate(census_button_labels(poll, min_cell_size)):
        builder.button(text=label, callback_data=PollVoteCallback(poll=poll.id, option=index))
    builder.adjust(1)
    return builder.as_markup()


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
        if poll is None:
            return  # no new step to show
        updated = await self._storage.polls.get_poll(poll.id)
        if updated is None or not updated.is_open:
            return  # closed meanwhile: the close draws the final message and posts the results
        with self._i18n.context(), self._i18n.use_locale(poll.locale):
            text = census_text(updated, self._min_cell_size)
        keyboard = census_keyboard(updated, self._min_cell_size)
        for copy in await self._storage.polls.copies(poll.id):  # every chat of a pooled poll
            chat = await self._storage.polls.get_chat(copy.chat_key)
            if chat is None or not chat.active:
                continue
            try:
                await self._bot.edit_message_text(
                    text,
                    chat_id=self._keyring.open_chat(chat.chat_sealed)[0],
                    message_id=copy.message_id,
                    reply_markup=keyboard,
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
        self._results = ResultsCourier(bot, storage, keyring, i18n, policy.min_cell_size)

    async def publish(
        self,
        chat_id: int,
        draft: PollDraft,
        locale: str,
        admin_id: int | None,
        also_in: tuple[int, ...] = (),
    ) -> Poll:
        """Record the poll, post it in the chat (and, pooled, in `also_in` too), schedule its
        close; audit the admin's action. Raises PollNotPosted, with no record and no message
        left, when Telegram refuses any of the posts."""
        if also_in and not may_pool(draft):
            raise ValueError("only a census poll can be pooled")
        now = self._clock.local_now(self._policy.timezone)
        poll = await record_poll(self._storage, self._keyring, chat_id, draft, locale, now)
        posted: list[tuple[int, Message]] = []
        for target in (chat_id, *also_in):
            try:
                posted.append((target, await self._post(target, poll)))
            except TelegramAPIError as exc:
                await self._take_back(posted)
                await withdraw_unposted(self._storage, poll)
                raise PollNotPosted(exc.message, target) from exc
        sent = posted[0][1]
        copies = tuple(
            PollCopy(self._keyring.chat_key(target), message.message_id)
            for target, message in posted[1:]
        )
        telegram_poll_id = sent.poll.id if sent.poll else None
        opened_by = BY_THE_BOT if admin_id is None else self._keyring.audit_admin(admin_id)
        recorded = await record_posted(
            self._storage, poll, sent.message_id, telegram_poll_id, opened_by, now, copies
        )
        if draft.close_at is not None:
            self._scheduler.schedule_close(poll.id, draft.close_at)
        return recorded

    async def _take_back(self, posted: list[tuple[int, Message]]) -> None:
        """A pooled poll refused in one chat is posted in none: delete the copies already sent."""
        for chat_id, message in posted:
            try:
                await self._bot.delete_message(chat_id, message.message_id)
            except TelegramAPIError as exc:
                logger.warning("A withdrawn poll's message could not be deleted: %s", exc)

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
        """Close the poll, destroy a census key and audit it as `closed_by` (one unit of work
        that also queues the results), then stop it and post the results in every chat it ran
        in. False if it was closed already."""
        now = self._clock.local_now(self._policy.timezone)
        if await close_poll(self._storage, poll_id, now, closed_by) is None:
            return False
        await self._results.deliver(poll_id)
        return True

    async def post_due_results(self) -> None:
        """Post every result still due (a poll closed in the records only, say)."""
        await self._results.deliver()

    def resume_results(self) -> None:
        """At start: post the results a crash or an outage left unposted."""
        self._results.resume()

    async def results_settled(self) -> None:
        """Return once no results wait to be retried in the background."""
        await self._results.settled()

    async def stop(self) -> None:
        """Drop the census edits not made yet, and stop retrying results (the next start
        sends them)."""
        await self._refresher.stop()
        await self._results.stop()
