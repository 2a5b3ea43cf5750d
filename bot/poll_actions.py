"""The Telegram side of polls: post them, keep census counts current, stop them and post the
results. Each step's records change through services/polls/."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Protocol

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup, InputPollOption, Message
from aiogram.utils.i18n import I18n

from bot.callback_types import StoredId
from bot.chart_process import ChartProcess
from bot.keyboards import callback_button, inline_keyboard
from bot.poll_results import ResultsCourier
from bot.shared.refresh_claims import LocalRefreshClaims, RefreshClaims
from bot.shared.send_limit import SendLimit
from services.claims import Claims, poll_close_claim
from services.clock import Clock
from services.policy import Policy
from services.polls.closing import BY_THE_BOT, close_poll
from services.polls.parsing import PollDraft
from services.polls.publishing import (
    may_pool,
    reattach,
    reattach_copy,
    record_poll,
    record_posted,
    withdraw_unposted,
)
from services.polls.render import census_button_labels, census_text
from services.polls.voting import recount_census
from services.privacy import Keyring
from storage import Poll, PollCopy, Storage

logger = logging.getLogger(__name__)
# Telegram closes a poll by itself at a close_date this near (Bot API 9.6: 2,628,000 s).
NATIVE_CLOSE_RANGE = (dt.timedelta(seconds=5), dt.timedelta(seconds=2_628_000))
ALREADY_CLOSED = "poll has already been closed"
# How long a poll Telegram closed by itself waits for the `poll` update with its final counts
# (queued while the bot was down, say) before it closes with the last counts known.
FINAL_COUNTS_WAIT = dt.timedelta(seconds=30)
# How long an instance holds a poll it is closing: long enough for stopPoll and the close's
# unit of work; should it die meanwhile, another instance's sweep closes the poll after this.
CLOSE_CLAIM = dt.timedelta(minutes=2)


def native_close_date(close_at: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
    """The close_date Telegram is told, as a backstop should the bot be down at close time;
    None beyond Telegram's range (the bot's own scheduler alone closes it then)."""
    if close_at is None:
        return None
    low, high = NATIVE_CLOSE_RANGE
    # In UTC: aware times in one zone subtract as wall times, an hour off across a DST change.
    ahead = close_at.astimezone(dt.UTC) - now.astimezone(dt.UTC)
    return close_at if low <= ahead <= high else None


class PollNotPosted(Exception):
    """Telegram refused to post the poll; the message is its reason, `chat_id` where."""

    def __init__(self, reason: str, chat_id: int) -> None:
        super().__init__(reason)
        self.chat_id = chat_id


class ClosedByTelegram(Exception):
    """stopPoll found the poll closed already: Telegram closed it at its close_date."""


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
    arrive (Telegram limits edits), and only when a new step of counts may be shown; with
    several instances, one of them per window (`claims`)."""

    def __init__(
        self,
        bot: Bot,
        storage: Storage,
        keyring: Keyring,
        i18n: I18n,
        min_cell_size: int,
        interval: float,
        claims: RefreshClaims,
    ) -> None:
        self._bot, self._storage, self._keyring = bot, storage, keyring
        self._i18n, self._min_cell_size, self._interval = i18n, min_cell_size, interval
        self._claims = claims
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
            if not await self._claims.claim(poll_id, self._interval):
                return  # another instance refreshes after this window, this vote included
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
        charts: ChartProcess,
        claims: Claims,
        refresh_claims: RefreshClaims | None = None,
        send_limit: SendLimit | None = None,
    ) -> None:
        self._bot, self._storage, self._keyring, self._i18n = bot, storage, keyring, i18n
        self._scheduler, self._policy, self._clock = scheduler, policy, clock
        self._claims = claims
        self._closing: set[int] = set()  # closes under way in this instance
        self._refresher = CensusRefresher(
            bot,
            storage,
            keyring,
            i18n,
            policy.min_cell_size,
            refresh_seconds,
            refresh_claims or LocalRefreshClaims(),
        )
        self._awaiting_final: set[int] = set()  # closed by Telegram, final counts not here yet
        self._results = ResultsCourier(
            bot,
            storage,
            keyring,
            i18n,
            policy.min_cell_size,
            charts,
            claims=claims,
            send_limit=send_limit,
        )

    async def publish(
        self,
        chat_id: int,
        draft: PollDraft,
        locale: str,
        admin_id: int | None,
        also_in: tuple[int, ...] = (),
        thread_id: int | None = None,
    ) -> Poll:
        """Record the poll, post it in the chat (in a forum, in topic `thread_id`; pooled, in
        `also_in` too, in their General), schedule its close; audit the admin's action. Raises
        PollNotPosted, with no record and no message left, when Telegram refuses any post."""
        if also_in and not may_pool(draft):
            raise ValueError("only a census poll can be pooled")
        now = self._clock.local_now(self._policy.timezone)
        poll = await record_poll(
            self._storage, self._keyring, chat_id, draft, locale, now, thread_id
        )
        posted: list[tuple[int, Message]] = []
        for target in (chat_id, *also_in):
            topic = thread_id if target == chat_id else None
            try:
                posted.append((target, await self._post(target, poll, draft, now, topic)))
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

    async def _post(
        self,
        chat_id: int,
        poll: Poll,
        draft: PollDraft,
        now: dt.datetime,
        thread_id: int | None,
    ) -> Message:
        if poll.kind == "census":
            keyboard = census_keyboard(poll, self._policy.min_cell_size)
            text = census_text(poll, self._policy.min_cell_size)
            return await self._bot.send_message(
                chat_id, text, message_thread_id=thread_id, reply_markup=keyboard
            )
        # Plain text, as typed: under the default HTML parse mode "<x>" is refused, "&amp;" lost.
        return await self._bot.send_poll(
            chat_id,
            message_thread_id=thread_id,
            question=poll.question,
            question_parse_mode=None,
            options=[InputPollOption(text=text, text_parse_mode=None) for text in poll.options],
            is_anonymous=True,
            allows_multiple_answers=poll.multiple,
            allows_revoting=draft.revoting,
            hide_results_until_closes=draft.hidden_counts or None,
            close_date=native_close_date(draft.close_at, now),
        )

    async def carry_over(self, chat_id: int) -> None:
        """The group became this supergroup: its open census polls, its own and the copies of
        pooled ones, are posted again here, so voting goes on (their votes stay); Telegram
        polls stay behind, closed with the counts Telegram sends."""
        chat_key = self._keyring.chat_key(chat_id)
        for poll in await self._storage.polls.open_polls():
            if poll.kind != "census":
                continue
            own = poll.chat_key == chat_key
            if not own and all(
                copy.chat_key != chat_key for copy in await self._storage.polls.copies(poll.id)
            ):
                continue
            with self._i18n.context(), self._i18n.use_locale(poll.locale):
                text = census_text(poll, self._policy.min_cell_size)
                keyboard = census_keyboard(poll, self._policy.min_cell_size)
                try:
                    sent = await self._bot.send_message(chat_id, text, reply_markup=keyboard)
                except TelegramAPIError as exc:
                    logger.warning("Census poll %d could not be posted again: %s", poll.id, exc)
                    continue
            if own:
                await reattach(self._storage, poll, sent.message_id)
            else:
                await reattach_copy(self._storage, poll, chat_key, sent.message_id)

    def vote_recorded(self, poll_id: int) -> None:
        """A census vote changed: its counts on the buttons follow, in a while."""
        self._refresher.request(poll_id)

    async def census_settled(self) -> None:
        """Return once the census refreshes for the votes so far have run."""
        await self._refresher.settled()

    async def close(self, poll_id: int, closed_by: str = BY_THE_BOT) -> bool:
        """Close the poll (stopPoll, or the census message loses its buttons), destroy a census
        key, audit it as `closed_by`, and post the results. False if it was closed already
        (or Telegram closed it, and its final counts are awaited a while)."""
        try:
            final = await self._stop_native(poll_id)
        except ClosedByTelegram:
            if poll_id not in self._awaiting_final:
                self._awaiting_final.add(poll_id)
                self._scheduler.schedule_close(poll_id, self._clock.now() + FINAL_COUNTS_WAIT)
                return False
            final = None  # waited long enough: the last counts known are final
        return await self._finish(poll_id, closed_by, final)

    async def close_claimed(self, poll_id: int) -> bool:
        """The scheduled close: close the poll unless another instance (or this one, already)
        is closing it; False if nothing was closed here."""
        if poll_id in self._closing:
            return False
        self._closing.add(poll_id)
        try:
            if not await self._claims.take(poll_close_claim(poll_id), CLOSE_CLAIM):
                return False
            closed = await self.close(poll_id)
            if poll_id not in self._awaiting_final:  # else held until its final close
                await self._claims.give_up(poll_close_claim(poll_id))
            return closed
        finally:
            self._closing.discard(poll_id)

    async def close_due(self) -> int:
        """The sweep every instance runs: close every open poll whose close time has passed,
        whoever scheduled it (an instance that died, say); returns how many it closed."""
        now = self._clock.now()
        closed = 0
        for poll in await self._storage.polls.open_polls():
            due = poll.close_at is not None and poll.close_at <= now
            # One Telegram closed by itself waits for its final counts (its own job closes it).
            if due and poll.id not in self._awaiting_final and await self.close_claimed(poll.id):
                closed += 1
        return closed

    async def closed_by_telegram(self, poll_id: int, final: tuple[int, ...]) -> bool:
        """Telegram closed the poll at its close_date (its `poll` update says so): close it in
        the records with these final counts and post the results."""
        return await self._finish(poll_id, BY_THE_BOT, final)

    async def _finish(self, poll_id: int, closed_by: str, final: tuple[int, ...] | None) -> bool:
        """Close it in the records (one unit of work that also queues the results), then stop
        it and post the results in every chat it ran in (bot/poll_results.py)."""
        self._awaiting_final.discard(poll_id)
        now = self._clock.local_now(self._policy.timezone)
        if await close_poll(self._storage, poll_id, now, closed_by, final) is None:
            return False
        await self._results.deliver(poll_id)
        return True

    async def _stop_native(self, poll_id: int) -> tuple[int, ...] | None:
        """Stop an open Telegram poll; its final counts, or None when not known (a census, or
        a poll Telegram cannot stop). Raises ClosedByTelegram if it is closed already."""
        poll = await self._storage.polls.get_poll(poll_id)
        if poll is None or not poll.is_open or poll.kind != "native" or poll.message_id is None:
            return None
        chat = await self._storage.polls.get_chat(poll.chat_key)
        if chat is None or not chat.active:
            return None
        chat_id = self._keyring.open_chat(chat.chat_sealed)[0]
        try:
            stopped = await self._bot.stop_poll(chat_id, poll.message_id)
        except TelegramBadRequest as exc:
            if ALREADY_CLOSED in exc.message:
                raise ClosedByTelegram from exc
            logger.warning("Poll %d could not be stopped: %s", poll.id, exc)
            return None
        except TelegramAPIError as exc:
            logger.warning("Poll %d could not be stopped: %s", poll.id, exc)
            return None
        return tuple(option.voter_count for option in stopped.options)

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
