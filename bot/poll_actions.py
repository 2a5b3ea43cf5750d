"""Posting, counting and closing polls: shared by /poll, the private wizard and the scheduler."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
import os
from typing import Protocol

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from services.charts import bar_chart
from services.polls.closing import BY_THE_BOT, close_poll, hour_stamp
from services.polls.parsing import PollDraft
from services.polls.results import final_results, live_counts
from services.privacy import Keyring, respondent_pseudonym
from services.survey.aggregates import OTHER
from storage import Poll, Storage

logger = logging.getLogger(__name__)
CHART_MIN_OPTIONS = 3
CAPTION_LIMIT = 1024  # Telegram's limit on a photo's caption


class PollVoteCallback(CallbackData, prefix="pv"):
    poll: int
    option: int


class PollCloseScheduler(Protocol):
    """Closes polls at their close time, across restarts."""

    def schedule_close(self, poll_id: int, when: dt.datetime) -> None: ...


def census_view(poll: Poll, k: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """The census poll's message: the question and one button per option with its count
    (hidden below k while open); no buttons once closed."""
    lines = [f"📊 <b>{html.escape(poll.question)}</b>"]
    if poll.is_open:
        lines.append(
            _(
                "Anonymous: one vote per person, you can change it. Counts below {k} are hidden."
            ).format(k=k)
            if not poll.multiple
            else _("Anonymous, several answers allowed. Counts below {k} are hidden.").format(k=k)
        )
        builder = InlineKeyboardBuilder()
        for index, (option, count) in enumerate(
            zip(poll.options, live_counts(poll.tallies, k), strict=True)
        ):
            shown = f"{count}" if count is not None else f"<{k}"
            builder.button(
                text=f"{option} · {shown}",
                callback_data=PollVoteCallback(poll=poll.id, option=index),
            )
        builder.adjust(1)
        return "\n".join(lines), builder.as_markup()
    lines.append(_("This poll is closed."))
    return "\n".join(lines), None


async def publish_poll(
    bot: Bot,
    storage: Storage,
    keyring: Keyring,
    scheduler: PollCloseScheduler,
    *,
    chat_id: int,
    draft: PollDraft,
    locale: str,
    admin_id: int | None,
    k: int,
    now: dt.datetime,
) -> Poll:
    """Record the poll, post it in the chat, schedule its close; audit the admin's action."""
    chat_key = keyring.chat_key(chat_id)
    key = keyring.poll_key_sealer.seal(os.urandom(32)) if draft.census else None
    async with storage.transaction() as tx:
        poll = await tx.polls.create_poll(
            chat_key,
            "census" if draft.census else "native",
            draft.question,
            draft.options,
            draft.multiple,
            now.date(),
            None if draft.close_at is None else draft.close_at.astimezone(dt.UTC),
            key,
            locale,
        )
    telegram_poll_id: str | None = None
    if draft.census:
        text, keyboard = census_view(poll, k)
        sent = await bot.send_message(chat_id, text, reply_markup=keyboard)
    else:
        sent = await bot.send_poll(
            chat_id,
            question=draft.question,
            options=list(draft.options),
            is_anonymous=True,
            allows_multiple_answers=draft.multiple,
        )
        telegram_poll_id = sent.poll.id if sent.poll else None
    async with storage.transaction() as tx:
        await tx.polls.attach_message(poll.id, sent.message_id, telegram_poll_id)
        await tx.polls.audit(
            hour_stamp(now),
            "open",
            chat_key,
            BY_THE_BOT if admin_id is None else keyring.audit_admin(admin_id),
            poll.id,
        )
        refreshed = await tx.polls.get_poll(poll.id)
    assert refreshed is not None
    if draft.close_at is not None:
        scheduler.schedule_close(poll.id, draft.close_at)
    return refreshed


async def record_census_vote(
    storage: Storage, keyring: Keyring, poll: Poll, user_id: int, option: int
) -> tuple[int, ...] | None:
    """Set the vote (single choice: pressing again keeps it, so repeated taps count once) or
    toggle an option (multiple choice); returns the person's choice, or None when the vote is
    refused (closed poll, unknown option)."""
    if not poll.is_open or poll.voter_key_sealed is None or not 0 <= option < len(poll.options):
        return None
    voter = respondent_pseudonym(keyring.poll_key_sealer.open(poll.voter_key_sealed), user_id)
    async with storage.transaction() as tx:
        current = await tx.polls.get_vote(poll.id, voter)
        choice = tuple(sorted(set(current) ^ {option})) if poll.multiple else (option,)
        if choice != current and not await tx.polls.vote(poll.id, voter, choice):
            return None  # closed since the poll was read
    return choice


class CensusRefresher:
    """Edits a census poll's counts at most once every `interval` seconds, however fast
    votes arrive (Telegram limits edits; live counts must not trace single votes either)."""

    def __init__(
        self, bot: Bot, storage: Storage, keyring: Keyring, i18n: I18n, k: int, interval: float
    ) -> None:
        self._bot, self._storage, self._keyring = bot, storage, keyring
        self._i18n, self._k, self._interval = i18n, k, interval
        self._pending: dict[int, asyncio.Task[None]] = {}

    def request(self, poll_id: int) -> None:
        if poll_id not in self._pending:
            self._pending[poll_id] = asyncio.create_task(self._refresh_later(poll_id))

    async def flush(self) -> None:
        """Wait for the edits already requested."""
        while self._pending:
            await asyncio.gather(*list(self._pending.values()), return_exceptions=True)

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
        poll = await self._storage.polls.get_poll(poll_id)
        if poll is None or not poll.is_open or poll.message_id is None:
            return
        async with self._storage.transaction() as tx:
            tallies = await tx.polls.census_tallies(poll.id, len(poll.options))
            await tx.polls.set_tallies(poll.id, tallies)
        chat = await self._storage.polls.get_chat(poll.chat_key)
        if chat is None or not chat.active:
            return
        updated = await self._storage.polls.get_poll(poll.id)
        if updated is None or not updated.is_open:
            return  # closed meanwhile: the close draws the final message and posts the results
        with self._i18n.context(), self._i18n.use_locale(poll.locale):
            text, keyboard = census_view(updated, self._k)
        try:
            await self._bot.edit_message_text(
                text,
                chat_id=self._keyring.open_chat(chat.chat_sealed)[0],
                message_id=poll.message_id,
                reply_markup=keyboard,
            )
        except TelegramAPIError as exc:
            if "not modified" not in str(exc):
                logger.warning("Census poll %d could not be refreshed: %s", poll.id, exc)


async def close_and_report(
    bot: Bot,
    storage: Storage,
    keyring: Keyring,
    poll_id: int,
    k: int,
    i18n: I18n,
    now: dt.datetime,
    closed_by: str = BY_THE_BOT,
) -> bool:
    """Close the poll (stopPoll, or the census message loses its buttons), destroy a census
    key, audit it as `closed_by`, and post the results. False if it was closed already."""
    outcome = await close_poll(storage, poll_id, now, closed_by)
    if outcome is None:
        return False
    poll, chat = outcome
    if chat is None or not chat.active:
        return True  # the bot left the chat: closed in the records only
    chat_id = keyring.open_chat(chat.chat_sealed)[0]
    with i18n.context(), i18n.use_locale(poll.locale):
        try:
            if poll.kind == "native" and poll.message_id is not None:
                await bot.stop_poll(chat_id, poll.message_id)
            elif poll.message_id is not None:
                text, _keyboard = census_view(poll, k)
                await bot.edit_message_text(text, chat_id=chat_id, message_id=poll.message_id)
            await post_results(bot, chat_id, poll, k)
        except TelegramAPIError as exc:
            logger.warning("Poll %d closed, but the chat could not be told: %s", poll.id, exc)
    return True


async def post_results(bot: Bot, chat_id: int, poll: Poll, k: int) -> None:
    results = final_results(poll.tallies, k, multiple=poll.multiple)
    heading = _("📊 Results: {question}").format(question=html.escape(poll.question))
    if results is None:
        await bot.send_message(
            chat_id,
            heading
            + "\n\n"
            + ngettext(
                "Fewer than {k} vote: the results are not published.",
                "Fewer than {k} votes: the results are not published.",
                k,
            ).format(k=k),
        )
        return
    rows = [
        (
            _("Other options together") if index == OTHER else poll.options[int(index)],
            count,
        )
        for index, count in results.rows
    ]
    lines = [heading, ""]
    for label, count in rows:
        share = f" ({round(100 * count / results.total)}%)" if results.total else ""
        lines.append(f"• {html.escape(label)}: {count}{share}")
    if results.total is not None:
        lines.append(_("Votes: {count}").format(count=results.total))
    lines.append(
        ngettext(
            "Options with fewer than {k} vote are not shown separately.",
            "Options with fewer than {k} votes are not shown separately.",
            k,
        ).format(k=k)
    )
    text = "\n".join(lines)
    if len(poll.options) >= CHART_MIN_OPTIONS and len(text) <= CAPTION_LIMIT:
        chart = bar_chart(poll.question, rows, shares=results.total is not None)
        await bot.send_photo(
            chat_id, BufferedInputFile(chart, filename=f"poll-{poll.id}.png"), caption=text
        )
    else:
        await bot.send_message(chat_id, text)
