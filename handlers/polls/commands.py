"""Polls in groups and channels: `/poll` (one line, or a template), live census votes,
Telegram's poll updates, `/polls` and `/closepoll`. Only the bot's admins and the chat's own
administrators may run polls; in a channel every post comes from its administrators."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
from contextlib import suppress
from zoneinfo import ZoneInfo

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
from services.timefmt import local_time
from storage import Poll, Storage

LIST_LIMIT = 10
POLL_CHATS = (ChatType.GROUP, ChatType.SUPERGROUP, ChatType.CHANNEL)
POOLED_WORDS = ("pooled", "разам", "вместе")


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
            "/poll hidden ...: no counts shown until the poll closes\n"
            "/poll revote ...: voters may change their answer (Telegram polls)\n"
            "/poll pooled Question? | ...: one census poll here and in every other chat where "
            "you are an administrator and I am present: one tally, one vote per person\n"
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
        if flags <= {"census", "multi", "hidden", "revote"}:
            census = "census" in flags
            template = template_draft(
                words[-1].casefold(), census=census, hidden_counts="hidden" in flags
            )
            if template is not None:
                return dataclasses.replace(template, revoting=not census and "revote" in flags)
    return parse_poll_line(args, now)


def topic_of(message: Message) -> int | None:
    """The forum topic the message was written in; None in General or a chat without topics
    (where a thread id only marks a reply thread)."""
    return message.message_thread_id if message.is_topic_message else None


def pooled_flag(args: str) -> tuple[bool, str]:
    """`/poll pooled ...`: whether the line asks to pool, and the rest of it."""
    words = args.strip().split(maxsplit=1)
    if words and words[0].casefold() in POOLED_WORDS:
        return True, words[1] if len(words) > 1 else ""
    return False, args


async def poll_targets(
    bot: Bot, storage: Storage, keyring: Keyring, chat_admins: ChatAdminCache, user_id: int
) -> list[tuple[int, str, bool]]:
    """The chats the bot is in where this person may run polls: (chat id, title, is a forum),
    by title."""
    targets: list[tuple[int, str, bool]] = []
    for chat in await storage.polls.active_chats():
        chat_id, title = keyring.open_chat(chat.chat_sealed)
        if await chat_admins.may_run_polls(bot, chat_id, user_id):
            targets.append((chat_id, title or str(chat_id), chat.forum))
    return sorted(targets, key=lambda target: target[1].casefold())


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
    pooled, args = pooled_flag(command.args or "")
    if not args.strip():
        await message.reply(usage())
        return
    try:
        draft = draft_from(args, clock.local_now(policy.timezone))
    except PollLineError as exc:
        await message.reply(usage(exc.code))
        return
    chat, admin = message.chat, message.from_user
    await remember_chat(
        storage, keyring, chat.id, chat.title or "", chat.type, forum=bool(chat.is_forum)
    )
    also_in: tuple[int, ...] = ()
    if pooled:
        others = (
            []
            if admin is None
            else await poll_targets(bot, storage, keyring, chat_admins, admin.id)
        )
        also_in = tuple(target[0] for target in others if target[0] != chat.id)
        if not also_in:
            await message.reply(nothing_to_pool())
            return
        draft = dataclasses.replace(draft, census=True, revoting=False)  # only a census pools
    try:
        await poll_actions.publish(
            chat.id,
            draft,
            get_i18n().current_locale,
            admin_id=admin.id if admin else None,
            thread_id=topic_of(message),
            also_in=also_in,
        )
    except PollNotPosted as exc:
        await tell_not_posted(bot, exc, admin.id if admin else None, group_message=message)


def nothing_to_pool() -> str:
    return _(
        "I am in no other group or channel where you are an administrator, so there is "
        "nothing to pool this poll with. Add me there first, or send /poll census here."
    )


def not_posted(exc: PollNotPosted) -> str:
    return _("Telegram refused the poll, so nothing was posted: {reason}").format(
        reason=html.escape(str(exc))
    )


async def tell_not_posted(
    bot: Bot, exc: PollNotPosted, admin_id: int | None, group_message: Message
) -> None:
    """/poll was refused: the details to the admin in private when the bot can write there,
    and a short notice in the group (with the details if the private chat is closed)."""
    told_in_private = False
    if admin_id is not None:
        with suppress(TelegramAPIError):  # the admin never started the bot, or blocked it
            await bot.send_message(admin_id, not_posted(exc))
            told_in_private = True
    notice = (
        _("Telegram refused the poll, so nothing was posted. I sent you the details in private.")
        if told_in_private
        else not_posted(exc)
    )
    with suppress(TelegramAPIError):  # the bot may have lost the right to write here
        await group_message.reply(notice)


async def notify_chat_not_posted(bot: Bot, chat_id: int) -> None:
    """The wizard's post was refused: a short notice in the chat too, if the bot can write."""
    with suppress(TelegramAPIError):
        await bot.send_message(
            chat_id,
            _(
                "Telegram refused a poll an administrator prepared for this chat, so nothing "
                "was posted. They have the details in their private chat with me."
            ),
        )


async def on_census_vote(
    query: CallbackQuery,
    callback_data: PollVoteCallback,
    storage: Storage,
    keyring: Keyring,
    poll_actions: PollActions,
    callback_answer: CallbackAnswer,
) -> None:
    message = query.message
    # The poll that message is (in any chat of a pooled poll), and the one the button names.
    poll = (
        None
        if message is None
        else await storage.polls.poll_by_message(
            keyring.chat_key(message.chat.id), message.message_id
        )
    )
    if poll is None or poll.id != callback_data.poll or poll.kind != "census":
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


async def on_poll_update(event: TelegramPoll, storage: Storage, poll_actions: PollActions) -> None:
    """Telegram's counts of an anonymous poll the bot sent: the only way to know them. A poll
    Telegram closed at its close_date (the bot was down, say) is closed here with them."""
    counts = tuple(option.voter_count for option in event.options)
    await record_native_counts(storage, event.id, counts)
    if event.is_closed:
        poll = await storage.polls.poll_by_telegram_id(event.id)
        if poll is not None and poll.is_open:
            await poll_actions.closed_by_telegram(poll.id, counts)


def describe(poll: Poll, zone: ZoneInfo) -> str:
    kind = _("census") if poll.kind == "census" else _("Telegram poll")
    if poll.is_open:
        state = (
            _("open, closes {when}").format(when=local_time(poll.close_at, zone))
            if poll.close_at
            else _("open")
        )
    else:
        state = _("closed on {date}").format(
            date=poll.closed_on.isoformat() if poll.closed_on else ""
        )
    return f"#{poll.id} {html.escape(poll.question)} ({kind}; {state})"


async def polls_command(
    message: Message,
    bot: Bot,
    storage: Storage,
    keyring: Keyring,
    chat_admins: ChatAdminCache,
    policy: Policy,
) -> None:
    elsewhere = _("Send /polls in the group or channel whose polls you want.")
    if not await admin_in_poll_chat(message, bot, chat_admins, elsewhere):
        return
    polls = await storage.polls.chat_polls(
        keyring.chat_key(message.chat.id), LIST_LIMIT, topic_of(message)
    )
    if not polls:
        await message.reply(_("No polls in this chat yet.") + "\n\n" + usage())
        return
    await message.reply(
        _("<b>Polls in this chat</b>")
        + "\n"
        + "\n".join(describe(poll, policy.timezone) for poll in polls)
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
        if not await may_close(bot, storage, keyring, chat_admins, poll, message.from_user):
            await message.reply(pooled_close_refused())
            return
        await close_as(poll_actions, keyring, poll, message.from_user)
        return
    polls = await storage.polls.chat_polls(chat_key, 50, topic_of(message))
    open_polls = [poll for poll in polls if poll.is_open]
    if not open_polls:
        await message.reply(_("There are no open polls in this chat."))
        return
    choices = [
        callback_button(f"#{poll.id} {poll.question[:40]}", ClosePollCallback(poll=poll.id))
        for poll in open_polls[:LIST_LIMIT]
    ]
    await message.reply(_("Which poll should I close?"), reply_markup=inline_keyboard(choices, 1))


async def may_close(
    bot: Bot,
    storage: Storage,
    keyring: Keyring,
    chat_admins: ChatAdminCache,
    poll: Poll,
    who: User | None,
) -> bool:
    """A pooled poll closes in every chat at once: only for someone who may run polls in each
    of them (a channel's post, which has no sender, closes only a poll of its own)."""
    copies = await storage.polls.copies(poll.id)
    if len(copies) < 2:
        return True  # the caller checked this chat already
    if who is None:
        return False
    for copy in copies:
        chat = await storage.polls.get_chat(copy.chat_key)
        if chat is None or not chat.active:
            continue  # the bot left: that chat no longer has a say
        chat_id = keyring.open_chat(chat.chat_sealed)[0]
        if not await chat_admins.may_run_polls(bot, chat_id, who.id):
            return False
    return True


def pooled_close_refused() -> str:
    return _(
        "This poll runs in several chats: only someone who administers all of them can close it."
    )


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
    chat_key = keyring.chat_key(message.chat.id)
    if all(copy.chat_key != chat_key for copy in await storage.polls.copies(poll.id)):
        callback_answer.text = _("This poll is not available.")
        return
    # Everyone who sees a button can press it, a channel's subscribers too.
    if not await chat_admins.may_run_polls(bot, message.chat.id, query.from_user.id):
        callback_answer.text = _("Sorry: only this chat's administrators can run polls here.")
        callback_answer.show_alert = True
        return
    if not await may_close(bot, storage, keyring, chat_admins, poll, query.from_user):
        callback_answer.text = pooled_close_refused()
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
