"""/newpoll in a private chat: a step-by-step poll for a chat where the person is an
administrator: target chat, kind, a ready template or one's own question and options, single
or multiple choice, close time, preview, post."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.chat_admins import ChatAdminCache
from bot.poll_actions import PollCloseScheduler, publish_poll
from handlers.common.replies import edit_or_send, out_of_date
from handlers.polls.commands import usage
from handlers.polls.templates import template_draft
from services.clock import Clock
from services.polls.parsing import (
    MAX_QUESTION,
    PollDraft,
    PollLineError,
    parse_close_time,
    parse_poll_line,
)
from services.privacy import Keyring
from storage import Storage

CLOSE_CHOICES = {"1h": dt.timedelta(hours=1), "1d": dt.timedelta(days=1),
                 "3d": dt.timedelta(days=3), "7d": dt.timedelta(days=7)}  # fmt: skip


class WizardCallback(CallbackData, prefix="nw"):
    step: str
    value: str = ""


class PollWizard(StatesGroup):
    choosing = State()
    question = State()
    options = State()


def _buttons(step: str, choices: list[tuple[str, str]], width: int = 1) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for value, label in choices:
        builder.button(text=label, callback_data=WizardCallback(step=step, value=value))
    builder.button(text=_("✖️ Cancel"), callback_data=WizardCallback(step="cancel"))
    builder.adjust(width)
    return builder.as_markup()


async def newpoll_command(
    message: Message,
    state: FSMContext,
    bot: Bot,
    storage: Storage,
    keyring: Keyring,
    chat_admins: ChatAdminCache,
) -> None:
    user = message.from_user
    if user is None:
        return
    targets: list[tuple[int, str]] = []
    for chat in await storage.polls.active_chats():
        chat_id, title = keyring.open_chat(chat.chat_sealed)
        title = title or str(chat_id)
        if await chat_admins.may_run_polls(bot, chat_id, user.id):
            targets.append((chat_id, title))
    if not targets:
        await message.answer(
            _(
                "I am not in any group or channel where you are an administrator. Add me there "
                "first (in a channel, as an administrator that can post), then send /newpoll."
            )
        )
        return
    await state.set_state(PollWizard.choosing)
    await state.set_data({"targets": targets, "step": "chat"})
    choices = [(str(index), title) for index, (_id, title) in enumerate(targets)]
    await message.answer(_("Where should the poll go?"), reply_markup=_buttons("chat", choices))


def kind_view() -> tuple[str, InlineKeyboardMarkup]:
    return _("What kind of poll?"), _buttons(
        "kind",
        [
            ("native", _("Telegram poll (anonymous)")),
            ("census", _("Census: buttons, one vote each")),
        ],
    )


def content_view() -> tuple[str, InlineKeyboardMarkup]:
    return _("Which question?"), _buttons(
        "content",
        [
            ("where", _("Where do you live now?")),
            ("status", _("Your status?")),
            ("own", _("✏️ My own question")),
        ],
    )


def close_view() -> tuple[str, InlineKeyboardMarkup]:
    return _(
        "When should it close? Pick one, or write a time like “in 2 days” or “2026-12-01”."
    ), _buttons(
        "close",
        [
            ("none", _("Not automatically")),
            ("1h", _("In 1 hour")),
            ("1d", _("In 1 day")),
            ("3d", _("In 3 days")),
            ("7d", _("In a week")),
        ],
        width=2,
    )


def preview_view(data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    draft = draft_of(data)
    chat_title = str(data["targets"][int(data["chat"])][1])
    lines = [
        _("<b>Preview</b> for «{chat}»").format(chat=html.escape(chat_title)),
        "",
        f"<b>{html.escape(draft.question)}</b>",
        *(f"• {html.escape(option)}" for option in draft.options),
        "",
        _("Census poll") if draft.census else _("Telegram anonymous poll"),
        _("Several answers allowed") if draft.multiple else _("One answer"),
        _("Closes {when}").format(when=draft.close_at.strftime("%Y-%m-%d %H:%M"))
        if draft.close_at
        else _("Closes when you send /closepoll"),
    ]
    return "\n".join(lines), _buttons("post", [("yes", _("✅ Post it"))])


def draft_of(data: dict[str, Any]) -> PollDraft:
    close = data.get("close")
    return PollDraft(
        str(data["question"]),
        tuple(str(option) for option in data["options"]),
        census=data.get("kind") == "census",
        multiple=bool(data.get("multiple")),
        close_at=dt.datetime.fromisoformat(close) if close else None,
    )


async def on_wizard_button(
    query: CallbackQuery,
    callback_data: WizardCallback,
    state: FSMContext,
    bot: Bot,
    storage: Storage,
    keyring: Keyring,
    chat_admins: ChatAdminCache,
    poll_scheduler: PollCloseScheduler,
    min_cell_size: int,
    timezone: ZoneInfo,
    clock: Clock,
    callback_answer: CallbackAnswer,
) -> None:
    data = await state.get_data()
    if callback_data.step == "cancel":
        await state.clear()
        await edit_or_send(query, _("Cancelled. No poll was posted."))
        return
    if await state.get_state() is None or data.get("step") != callback_data.step:
        callback_answer.text = out_of_date()
        return
    step, value = callback_data.step, callback_data.value
    if step == "chat" and value in {str(i) for i in range(len(data["targets"]))}:
        data.update(chat=value, step="kind")
        view = kind_view()
    elif step == "kind" and value in ("native", "census"):
        data.update(kind=value, step="content")
        view = content_view()
    elif step == "content" and value in ("where", "status"):
        template = template_draft(value)
        assert template is not None
        data.update(question=template.question, options=list(template.options), step="close")
        view = close_view()
    elif step == "content" and value == "own":
        data.update(step="question")
        await state.set_state(PollWizard.question)
        await state.set_data(data)
        await edit_or_send(
            query, _("Send the question (up to {n} characters).").format(n=MAX_QUESTION)
        )
        return
    elif step == "multiple" and value in ("0", "1"):
        data.update(multiple=value == "1", step="close")
        view = close_view()
    elif step == "close" and (value == "none" or value in CLOSE_CHOICES):
        close = None
        if value != "none":
            close = (clock.now() + CLOSE_CHOICES[value]).astimezone(timezone).isoformat()
        data.update(close=close, step="post")
        view = preview_view(data)
    elif step == "post" and value == "yes":
        await post(query, state, data, bot, storage, keyring, chat_admins, poll_scheduler,
                   min_cell_size, clock.local_now(timezone))  # fmt: skip
        return
    else:
        callback_answer.text = out_of_date()
        return
    await state.set_state(PollWizard.choosing)
    await state.set_data(data)
    await edit_or_send(query, *view)


async def post(
    query: CallbackQuery,
    state: FSMContext,
    data: dict[str, Any],
    bot: Bot,
    storage: Storage,
    keyring: Keyring,
    chat_admins: ChatAdminCache,
    poll_scheduler: PollCloseScheduler,
    k: int,
    now: dt.datetime,
) -> None:
    chat_id, title = data["targets"][int(data["chat"])]
    await state.clear()
    if not await chat_admins.may_run_polls(bot, int(chat_id), query.from_user.id):
        await edit_or_send(query, _("You are no longer an administrator there."))
        return
    await publish_poll(
        bot,
        storage,
        keyring,
        poll_scheduler,
        chat_id=int(chat_id),
        draft=draft_of(data),
        locale=get_i18n().current_locale,
        admin_id=query.from_user.id,
        k=k,
        now=now,
    )
    await edit_or_send(query, _("Posted in «{chat}».").format(chat=html.escape(str(title))))


async def on_question(message: Message, state: FSMContext) -> None:
    question = " ".join((message.text or "").split())
    if not question or len(question) > MAX_QUESTION:
        await message.answer(
            _("Send the question as text, up to {n} characters.").format(n=MAX_QUESTION)
        )
        return
    await state.update_data(question=question, step="options")
    await state.set_state(PollWizard.options)
    await message.answer(_("Now send the options, one per line (2 to 12)."))


async def on_options(message: Message, state: FSMContext, clock: Clock) -> None:
    data = await state.get_data()
    lines = [line.strip() for line in (message.text or "").splitlines() if line.strip()]
    try:
        draft = parse_poll_line(" | ".join([str(data["question"]), *lines]), clock.now())
    except PollLineError as exc:
        await message.answer(usage(exc.code).split("\n\n")[0])
        return
    await state.update_data(options=list(draft.options), step="multiple")
    await state.set_state(PollWizard.choosing)
    await message.answer(
        _("One answer per person, or several?"),
        reply_markup=_buttons("multiple", [("0", _("One answer")), ("1", _("Several answers"))]),
    )


async def on_close_time(
    message: Message, state: FSMContext, timezone: ZoneInfo, clock: Clock
) -> None:
    data = await state.get_data()
    try:
        close_at = parse_close_time(message.text or "", clock.local_now(timezone))
    except PollLineError:
        await message.answer(usage("close_time").split("\n\n")[0])
        return
    data.update(close=close_at.isoformat(), step="post")
    await state.set_state(PollWizard.choosing)
    await state.set_data(data)
    text, keyboard = preview_view(data)
    await message.answer(text, reply_markup=keyboard)


async def on_text_while_choosing(
    message: Message, state: FSMContext, timezone: ZoneInfo, clock: Clock
) -> None:
    """Text while buttons are shown: a close time at that step, otherwise a reminder."""
    data = await state.get_data()
    if data.get("step") == "close":
        await on_close_time(message, state, timezone, clock)
        return
    await message.answer(_("Please use the buttons above, or /cancel."))


def create_router() -> Router:
    router = Router(name="poll_wizard")
    private = F.chat.type == ChatType.PRIVATE
    router.message.register(newpoll_command, Command("newpoll"), private)
    router.callback_query.register(on_wizard_button, WizardCallback.filter())
    router.message.register(
        on_question, PollWizard.question, private, F.text, ~F.text.startswith("/")
    )
    router.message.register(
        on_options, PollWizard.options, private, F.text, ~F.text.startswith("/")
    )
    router.message.register(
        on_text_while_choosing, PollWizard.choosing, private, F.text, ~F.text.startswith("/")
    )
    return router
