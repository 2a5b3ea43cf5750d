"""Polls in groups and channels: `/poll` (one line, or a template), live census votes,
Telegram's poll updates, `/polls` and `/closepoll`. Only the bot's admins and the chat's own
administrators may run polls; in a channel every post comes from its administrators."""

from __future__ import annotations

import datetime as dt
import html
from contextlib import suppress

from aiogram import Bot, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message, User
from aiogram.types import Poll as TelegramPoll
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.callback_types import StoredId
from bot.chat_admins import ChatAdminCache
from bot.keyboards import callback_button, inline_keyboard
from bot.poll_actions import PollActions, PollNotPosted, PollVoteCallback
from handlers.polls.templates import TEMPLATES, template_draft
from services.clock import Clock
from services.policy import Policy
from services.polls.chats import remember_chat
from services.polls.parsing import (
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_QUESTION,
    PollDraft,
    PollLineError,
    parse_poll_line,
)
from services.polls.voting import record_census_vote, record_native_counts
from services.privacy import Keyring
from storage import Poll, Storage

LIST_LIMIT = 10
POLL_CHATS = (ChatType.GROUP, ChatType.SUPERGROUP, ChatType.CHANNEL)


class ClosePollCallback(CallbackData, prefix="pc"):
    poll: StoredId


def usage(reason: str = "") -> str:
    reasons = {
        "format": _("Separate the question and the options with |."),
        "question_missing": _("The question is missing."),
        "too_few": _("A poll needs at least 2 options."),
        "too_many": _("A poll can have at most {n} options.").format(n=MAX_OPTIONS),
        "option_too_long": _("An option can be at most {n} characters.").format(n=MAX_OPTION),
        "question_too_long": _("The question can be at most {n} characters.").format(
            n=MAX_QUESTION
        ),
        "duplicate": _("Two options are the same."),
        "close_time": _(
            "I did not understand the close time: write e.g. “close: in 2 days”, “close: 3h” "
            "or “close: 2026-12-01” (up to 90 days ahead)."
        ),
    }
    lines = [reasons[reason], ""] if reason in reasons else []
    lines.append(
        _(
            "<b>How to run a poll</b>\n"
            "/poll Question? | Option 1 | Option 2 | ...: a Telegram anonymous poll (2 to 12 "
            "options)\n"
            "/poll census Question? | ...: a poll with buttons, one vote per person, counts "
            "below the threshold hidden\n"
            "/poll multi ...: several answers allowed\n"
            "Add a last part “| close: in 2 days” to close it automatically.\n"
            "/poll where, /poll status: ready polls (where people live now; relocation status)\n"
            "/polls: this chat's polls; /closepoll: close one (or reply /closepoll to it)\n"
            "/newpoll in a private chat with me: a step-by-step dialogue."
        )
    )
    return "\n".join(lines)


async def allowed_to_run_polls(message: Message, bot: Bot, chat_admins: ChatAdminCache) -> bool:
    if message.chat.type == ChatType.CHANNEL:
        return True  # only a channel's administrators can post in it
    if message.sender_chat is not None and message.sender_chat.id == message.chat.id:
        return True  # an anonymous administrator of the group
    user = message.from_user
    return user is not None and await chat_admins.may_run_polls(bot, message.chat.id, user.id)


async def refuse_polls(message: Message) -> None:
    await message.reply(_("Sorry: only this chat's administrators can run polls here."))


async def admin_in_poll_chat(
    message: Message, bot: Bot, chat_admins: ChatAdminCache, elsewhere: str
) -> bool:
    """True in a group or channel for someone who may run polls there; otherwise says why."""
    if message.chat.type not in POLL_CHATS:
        await message.answer(elsewhere)
        return False
    if not await allowed_to_run_polls(message, bot, chat_admins):
        await refuse_polls(message)
        return False
    return True


def draft_from(args: str, now: dt.datetime) -> PollDraft:
    words = args.split()
    if words and words[-1].casefold() in TEMPLATES:
        flags = {word.casefold() for word in words[:-1]}
        if flags <= {"census", "multi", "hidden"}:
            template = template_draft(
                words[-1].casefold(),
                census=bool(flags & {"census", "hidden"}),
                hidden_counts="hidden" in flags,
            )
            if template is not None:
                return template
    return parse_poll_line(args, now)


async def poll_command(
    message: Message,
    command: CommandObject,
    bot: Bot,
    storage: Storage,
    keyring: Keyring,
    chat_admins: ChatAdminCache,
    poll_actions: PollActions,
    policy: Policy,
    clock: Clock,
) -> None:
    elsewhere = _(
        "Polls run in groups and channels: send /poll there, or /newpoll here for a "
        "step-by-step dialogue."
    )
    if not await admin_in_poll_chat(message, bot, chat_admins, elsewhere):
        return
    if not command.args or not command.args.strip():
        await message.reply(usage())
        return
    try:
        draft = draft_from(command.args, clock.local_now(policy.timezone))
    except PollLineError as exc:
        await message.reply(usage(exc.code))
        return
    chat = message.chat
    await remember_chat(storage, keyring, chat.id, chat.title or "", chat.type)
    try:
        await poll_actions.publish(
            message.chat.id,
            draft,
            get_i18n().current_locale,
            admin_id=message.from_user.id if message.from_user else None,
        )
    except PollNotPosted as exc:
        with suppress(TelegramAPIError):  # the bot may have lost the right to write here
            await message.reply(not_posted(exc))


def not_posted(exc: PollNotPosted) -> str:
    return _("Telegram refused the poll, so nothing was posted: {reason}").format(
        reason=html.escape(str(exc))
    )


async def on_census_vote(
    query: CallbackQuery,
    callback_data: PollVoteCallback,
    storage: Storage,
    keyring: Keyring,
    poll_actions: PollActions,
    callback_answer: CallbackAnswer,
) -> None:
    poll = await storage.polls.get_poll(callback_data.poll)
    message = query.message
    if (
        poll is None
        or message is None
        or poll.kind != "census"
        or poll.chat_key != keyring.chat_key(message.chat.id)
        or poll.message_id != message.message_id
    ):
        callback_answer.text = _("This poll is not available.")
        return
    if not poll.is_open:
        callback_answer.text = _("This poll is closed.")
        return
    choice = await record_census_vote(
        storage, keyring, poll, query.from_user.id, callback_data.option
    )
    if choice is None:
        callback_answer.text = _("This option does not exist.")
        return
    chosen = ", ".join(poll.options[index] for index in choice)
    callback_answer.text = (
        _("Your vote: {choice}").format(choice=chosen) if chosen else _("Your vote is withdrawn.")
    )
    poll_actions.vote_recorded(poll.id)


async def on_poll_update(event: TelegramPoll, storage: Storage) -> None:
    """Telegram's counts of an anonymous poll the bot sent: the only way to know them."""
    await record_native_counts(
        storage, event.id, tuple(option.voter_count for option in event.options)
    )


def describe(poll: Poll) -> str:
    kind = _("census") if poll.kind == "census" else _("Telegram poll")
    if poll.is_open:
        state = (
            _("open, closes {when} UTC").format(when=poll.close_at.strftime("%Y-%m-%d %H:%M"))
            if poll.close_at
            else _("open")
        )
    else:
        state = _("closed on {date}").format(
            date=poll.closed_on.isoformat() if poll.closed_on else ""
        )
    return f"#{poll.id} {html.escape(poll.question)} ({kind}; {state})"


async def polls_command(
    message: Message, bot: Bot, storage: Storage, keyring: Keyring, chat_admins: ChatAdminCache
) -> None:
    elsewhere = _("Send /polls in the group or channel whose polls you want.")
    if not await admin_in_poll_chat(message, bot, chat_admins, elsewhere):
        return
    polls = await storage.polls.chat_polls(keyring.chat_key(message.chat.id), LIST_LIMIT)
    if not polls:
        await message.reply(_("No polls in this chat yet.") + "\n\n" + usage())
        return
    await message.reply(
        _("<b>Polls in this chat</b>") + "\n" + "\n".join(describe(poll) for poll in polls)
    )


async def closepoll_command(
    message: Message,
    bot: Bot,
    storage: Storage,
    keyring: Keyring,
    chat_admins: ChatAdminCache,
    poll_actions: PollActions,
) -> None:
    elsewhere = _("Send /closepoll in the group or channel of the poll.")
    if not await admin_in_poll_chat(message, bot, chat_admins, elsewhere):
        return
    chat_key = keyring.chat_key(message.chat.id)
    replied = message.reply_to_message
    if replied is not None:
        poll = await storage.polls.poll_by_message(chat_key, replied.message_id)
        if poll is None or not poll.is_open:
            await message.reply(_("That message is not an open poll of mine."))
            return
        await close_as(poll_actions, keyring, poll, message.from_user)
        return
    open_polls = [poll for poll in await storage.polls.chat_polls(chat_key, 50) if poll.is_open]
    if not open_polls:
        await message.reply(_("There are no open polls in this chat."))
        return
    choices = [
        callback_button(f"#{poll.id} {poll.question[:40]}", ClosePollCallback(poll=poll.id))
        for poll in open_polls[:LIST_LIMIT]
    ]
    await message.reply(_("Which poll should I close?"), reply_markup=inline_keyboard(choices, 1))


async def close_as(
    poll_actions: PollActions, keyring: Keyring, poll: Poll, who: User | None
) -> None:
    """Close the poll, audited as the admin who asked (a channel's post has no sender)."""
    closed_by = "channel" if who is None else keyring.audit_admin(who.id)
    await poll_actions.close(poll.id, closed_by)


async def on_close_button(
    query: CallbackQuery,
    callback_data: ClosePollCallback,
    bot: Bot,
    storage: Storage,
    keyring: Keyring,
    chat_admins: ChatAdminCache,
    poll_actions: PollActions,
    callback_answer: CallbackAnswer,
) -> None:
    message = query.message
    poll = await storage.polls.get_poll(callback_data.poll)
    if not isinstance(message, Message) or poll is None or not poll.is_open:
        callback_answer.text = _("This poll is not open.")
        return
    if poll.chat_key != keyring.chat_key(message.chat.id):
        callback_answer.text = _("This poll is not available.")
        return
    # Everyone who sees a button can press it, a channel's subscribers too.
    if not await chat_admins.may_run_polls(bot, message.chat.id, query.from_user.id):
        callback_answer.text = _("Sorry: only this chat's administrators can run polls here.")
        callback_answer.show_alert = True
        return
    await close_as(poll_actions, keyring, poll, query.from_user)
    await message.edit_text(_("Closed: {poll}").format(poll=html.escape(poll.question)))


def create_router() -> Router:
    router = Router(name="polls")
    for observer in (router.message, router.channel_post):
        observer.register(poll_command, Command("poll"))
        observer.register(polls_command, Command("polls"))
        observer.register(closepoll_command, Command("closepoll"))
    router.callback_query.register(on_census_vote, PollVoteCallback.filter())
    router.callback_query.register(on_close_button, ClosePollCallback.filter())
    router.poll.register(on_poll_update)
    return router
