"""/newpoll in a private chat: a step-by-step poll for a chat where the person is an
administrator (or one census poll pooled across several such chats): target chat(s) (and
topic, in a forum), kind, whether a Telegram poll's voters may change their answer, a ready
template or one's own question and options, single or multiple choice, close time, preview,
post. Each step is its own state."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.chat_admins import ChatAdminCache
from bot.keyboards import callback_button, inline_keyboard
from bot.poll_actions import PollActions, PollNotPosted
from handlers.common.replies import edit_or_send, out_of_date
from handlers.polls.commands import not_posted, notify_chat_not_posted, poll_targets, usage
from handlers.polls.templates import template_draft
from services.clock import Clock
from services.policy import Policy
from services.polls.parsing import (
    MAX_QUESTION,
    PollDraft,
    PollLineError,
    parse_close_time,
    parse_poll_line,
    parse_topic,
)
from services.privacy import Keyring
from services.timefmt import local_time
from storage import Storage

POOL = "pool"  # the chat step's button for several chats
CLOSE_CHOICES = {"1h": dt.timedelta(hours=1), "1d": dt.timedelta(days=1),
                 "3d": dt.timedelta(days=3), "7d": dt.timedelta(days=7)}  # fmt: skip
KINDS = ("native", "native_hidden", "census", "hidden")
KNOWN_TOPICS = 6  # topics of earlier polls offered as buttons


class WizardCallback(CallbackData, prefix="nw"):
    step: str
    value: str = ""


class PollWizard(StatesGroup):
    chat = State()
    topic = State()
    pool = State()
    kind = State()
    revoting = State()
    content = State()
    question = State()
    options = State()
    multiple = State()
    close = State()
    preview = State()


def _buttons(step: str, choices: list[tuple[str, str]], width: int = 1) -> InlineKeyboardMarkup:
    buttons = [
        callback_button(label, WizardCallback(step=step, value=value)) for value, label in choices
    ]
    buttons.append(callback_button(_("✖️ Cancel"), WizardCallback(step="cancel")))
    return inline_keyboard(buttons, width)


def _pressed(step: str) -> CallbackQueryFilter:
    """A button of this step: the filter pairs it with the state of the same name."""
    return WizardCallback.filter(F.step == step)


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
    targets = await poll_targets(bot, storage, keyring, chat_admins, user.id)
    if not targets:
        await message.answer(
            _(
                "I am not in any group or channel where you are an administrator. Add me there "
                "first (in a channel, as an administrator that can post), then send /newpoll."
            )
        )
        return
    await state.set_state(PollWizard.chat)
    await state.set_data({"targets": targets})
    choices = [(str(index), title) for index, (_id, title, _forum) in enumerate(targets)]
    if len(targets) > 1:
        choices.append((POOL, _("🔗 Several chats: one poll, one tally")))
    await message.answer(_("Where should the poll go?"), reply_markup=_buttons("chat", choices))


def pool_view(targets: list[Any], chosen: list[str]) -> tuple[str, InlineKeyboardMarkup]:
    choices = [
        (str(index), ("✅ " if str(index) in chosen else "▫️ ") + str(title))
        for index, (_id, title, _forum) in enumerate(targets)
    ]
    return _(
        "Pick the chats to pool, then press Done. Their members vote in one census poll: one "
        "vote per person across all chats, and every chat sees the same combined counts."
    ), _buttons("pool", [*choices, ("done", _("Done ➡️"))])


def topic_label(thread_id: int | None) -> str:
    return _("General") if thread_id is None else _("Topic #{n}").format(n=thread_id)


def topic_view(chat_title: str, known: list[int]) -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "Which topic of «{chat}»? Press General or a topic of an earlier poll, or send a link "
        "to the topic (or to any message in it), or its number."
    ).format(chat=html.escape(chat_title))
    choices = [("general", topic_label(None))]
    choices += [(str(thread_id), topic_label(thread_id)) for thread_id in known]
    return text, _buttons("topic", choices, width=2)


def topic_refused() -> str:
    return _(
        "I did not understand the topic: send a link such as https://t.me/c/123/45 or the "
        "topic's number, or press a button."
    )


def kind_view(pooled: bool = False) -> tuple[str, InlineKeyboardMarkup]:
    census = [
        ("census", _("Census: buttons, one vote each")),
        ("hidden", _("Census, counts hidden until it closes")),
    ]
    if pooled:
        return _(
            "What kind of poll? A Telegram poll cannot be pooled: each chat's copy would count "
            "on its own and people could vote once in every chat. A census counts everyone "
            "once, in one tally."
        ), _buttons("kind", census)
    return _("What kind of poll?"), _buttons(
        "kind",
        [
            ("native", _("Telegram poll (anonymous)")),
            ("native_hidden", _("Telegram poll, results hidden until it closes")),
            *census,
        ],
    )


def revoting_view() -> tuple[str, InlineKeyboardMarkup]:
    return _("May voters change their answer later?"), _buttons(
        "revoting", [("1", _("Yes, they may change it")), ("0", _("No, the first is final"))]
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


def multiple_view() -> tuple[str, InlineKeyboardMarkup]:
    return _("One answer per person, or several?"), _buttons(
        "multiple", [("0", _("One answer")), ("1", _("Several answers"))]
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


def close_time_refused() -> str:
    """What the close step accepts: a bare time, without the "close:" of a /poll line."""
    return _(
        "I did not understand the close time: write e.g. “in 2 days”, “3h” or “2026-12-01” "
        "(up to 90 days ahead)."
    )


def chosen_chats(data: dict[str, Any]) -> list[tuple[int, str]]:
    """The chat picked, or the pooled chats: (chat id, title)."""
    indexes = data.get("pool") or [data["chat"]]
    return [(int(data["targets"][int(i)][0]), str(data["targets"][int(i)][1])) for i in indexes]


def chat_titles(data: dict[str, Any]) -> str:
    return ", ".join(f"«{html.escape(title)}»" for _id, title in chosen_chats(data))


def preview_view(data: dict[str, Any], zone: ZoneInfo) -> tuple[str, InlineKeyboardMarkup]:
    draft = draft_of(data)
    topic = data.get("topic")
    lines = [
        _("<b>Preview</b> for {chats}").format(chats=chat_titles(data)),
        *([topic_label(int(topic))] if topic is not None else []),
        "",
        f"<b>{html.escape(draft.question)}</b>",
        *(f"• {html.escape(option)}" for option in draft.options),
        "",
        _("Census poll") if draft.census else _("Telegram anonymous poll"),
        *([_("Counts hidden until it closes")] if draft.hidden_counts else []),
        *([_("Voters may change their answer")] if draft.revoting else []),
        _("Several answers allowed") if draft.multiple else _("One answer"),
        _("Closes {when}").format(when=local_time(draft.close_at, zone))
        if draft.close_at
        else _("Closes when you send /closepoll"),
    ]
    return "\n".join(lines), _buttons("post", [("yes", _("✅ Post it"))])


def draft_of(data: dict[str, Any]) -> PollDraft:
    close = data.get("close")
    return PollDraft(
        str(data["question"]),
        tuple(str(option) for option in data["options"]),
        census=data.get("kind") in ("census", "hidden"),
        hidden_counts=data.get("kind") in ("hidden", "native_hidden"),
        revoting=bool(data.get("revoting")),
        multiple=bool(data.get("multiple")),
        close_at=dt.datetime.fromisoformat(close) if close else None,
    )


async def _next_step(
    query: CallbackQuery,
    state: FSMContext,
    step: State,
    view: tuple[str, InlineKeyboardMarkup],
    **data: Any,
) -> None:
    """Keep the answer given, move to `step` and show its question in the same message."""
    await state.update_data(**data)
    await state.set_state(step)
    await edit_or_send(query, *view)


async def on_chat(
    query: CallbackQuery,
    callback_data: WizardCallback,
    state: FSMContext,
    storage: Storage,
    keyring: Keyring,
    callback_answer: CallbackAnswer,
) -> None:
    targets = (await state.get_data())["targets"]
    if callback_data.value == POOL and len(targets) > 1:
        await _next_step(query, state, PollWizard.pool, pool_view(targets, []), pool=[])
        return
    if callback_data.value not in {str(index) for index in range(len(targets))}:
        callback_answer.text = out_of_date()
        return
    chat_id, title, forum = targets[int(callback_data.value)]
    if not forum:
        await _next_step(
            query, state, PollWizard.kind, kind_view(), chat=callback_data.value, pool=[]
        )
        return
    polls = await storage.polls.chat_polls(keyring.chat_key(int(chat_id)), 50)
    known = list(dict.fromkeys(p.thread_id for p in polls if p.thread_id is not None))
    view = topic_view(str(title), known[:KNOWN_TOPICS])
    await _next_step(
        query, state, PollWizard.topic, view, chat=callback_data.value, known_topics=known, pool=[]
    )


async def on_pool(
    query: CallbackQuery,
    callback_data: WizardCallback,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    data = await state.get_data()
    targets, chosen = data["targets"], [str(i) for i in data.get("pool", [])]
    value = callback_data.value
    if value == "done":
        if len(chosen) < 2:
            callback_answer.text = _("Pick at least two chats.")
            return
        # A pooled poll goes to each chat's General: topics differ from chat to chat.
        await _next_step(query, state, PollWizard.kind, kind_view(pooled=True), chat=chosen[0])
        return
    if value not in {str(index) for index in range(len(targets))}:
        callback_answer.text = out_of_date()
        return
    chosen = [i for i in chosen if i != value] if value in chosen else [*chosen, value]
    await _next_step(query, state, PollWizard.pool, pool_view(targets, chosen), pool=chosen)


async def on_topic(
    query: CallbackQuery,
    callback_data: WizardCallback,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    known = (await state.get_data()).get("known_topics", [])
    value = callback_data.value
    if value != "general" and value not in {str(thread_id) for thread_id in known}:
        callback_answer.text = out_of_date()
        return
    topic = None if value == "general" else int(value)
    await _next_step(query, state, PollWizard.kind, kind_view(), topic=topic)


async def on_topic_text(message: Message, state: FSMContext) -> None:
    topic = parse_topic(message.text or "")
    if topic is None:
        await message.answer(topic_refused())
        return
    await state.update_data(topic=topic)
    await state.set_state(PollWizard.kind)
    text, keyboard = kind_view()
    await message.answer(text, reply_markup=keyboard)


async def on_kind(
    query: CallbackQuery,
    callback_data: WizardCallback,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    pooled = bool((await state.get_data()).get("pool"))
    if callback_data.value not in (("census", "hidden") if pooled else KINDS):
        callback_answer.text = out_of_date()
        return
    if callback_data.value.startswith("native"):
        await _next_step(
            query, state, PollWizard.revoting, revoting_view(), kind=callback_data.value
        )
        return
    await _next_step(query, state, PollWizard.content, content_view(), kind=callback_data.value)


async def _yes_or_no(
    query: CallbackQuery,
    callback_data: WizardCallback,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    answer: str,
    step: State,
    view: tuple[str, InlineKeyboardMarkup],
) -> None:
    """A "0"/"1" button: keep it under the name `answer` and move on to `step`."""
    if callback_data.value not in ("0", "1"):
        callback_answer.text = out_of_date()
        return
    await _next_step(query, state, step, view, **{answer: callback_data.value == "1"})


async def on_revoting(
    query: CallbackQuery,
    callback_data: WizardCallback,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    step, view = PollWizard.content, content_view()
    await _yes_or_no(query, callback_data, state, callback_answer, "revoting", step, view)


async def on_content(
    query: CallbackQuery,
    callback_data: WizardCallback,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    if callback_data.value == "own":
        await state.set_state(PollWizard.question)
        await edit_or_send(
            query, _("Send the question (up to {n} characters).").format(n=MAX_QUESTION)
        )
        return
    template = template_draft(callback_data.value)
    if template is None:
        callback_answer.text = out_of_date()
        return
    await _next_step(
        query,
        state,
        PollWizard.close,
        close_view(),
        question=template.question,
        options=list(template.options),
    )


async def on_question(message: Message, state: FSMContext) -> None:
    question = " ".join((message.text or "").split())
    if not question or len(question) > MAX_QUESTION:
        await message.answer(
            _("Send the question as text, up to {n} characters.").format(n=MAX_QUESTION)
        )
        return
    await state.update_data(question=question)
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
    await state.update_data(options=list(draft.options))
    await state.set_state(PollWizard.multiple)
    text, keyboard = multiple_view()
    await message.answer(text, reply_markup=keyboard)


async def on_multiple(
    query: CallbackQuery,
    callback_data: WizardCallback,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    await _yes_or_no(
        query, callback_data, state, callback_answer, "multiple", PollWizard.close, close_view()
    )


async def on_close_choice(
    query: CallbackQuery,
    callback_data: WizardCallback,
    state: FSMContext,
    policy: Policy,
    clock: Clock,
    callback_answer: CallbackAnswer,
) -> None:
    value = callback_data.value
    if value != "none" and value not in CLOSE_CHOICES:
        callback_answer.text = out_of_date()
        return
    close = None
    if value != "none":
        close = (clock.now() + CLOSE_CHOICES[value]).astimezone(policy.timezone).isoformat()
    data = await state.update_data(close=close)
    await _next_step(query, state, PollWizard.preview, preview_view(data, policy.timezone))


async def on_close_time(message: Message, state: FSMContext, policy: Policy, clock: Clock) -> None:
    try:
        close_at = parse_close_time(message.text or "", clock.local_now(policy.timezone))
    except PollLineError:
        await message.answer(close_time_refused())
        return
    data = await state.update_data(close=close_at.isoformat())
    await state.set_state(PollWizard.preview)
    text, keyboard = preview_view(data, policy.timezone)
    await message.answer(text, reply_markup=keyboard)


async def on_post(
    query: CallbackQuery,
    callback_data: WizardCallback,
    state: FSMContext,
    bot: Bot,
    chat_admins: ChatAdminCache,
    poll_actions: PollActions,
    callback_answer: CallbackAnswer,
) -> None:
    if callback_data.value != "yes":
        callback_answer.text = out_of_date()
        return
    data = await state.get_data()
    chats = chosen_chats(data)
    topic = data.get("topic")
    await state.clear()
    for chat_id, _title in chats:
        if not await chat_admins.may_run_polls(bot, chat_id, query.from_user.id):
            await edit_or_send(query, _("You are no longer an administrator there."))
            return
    try:
        await poll_actions.publish(
            chats[0][0],
            draft_of(data),
            get_i18n().current_locale,
            admin_id=query.from_user.id,
            thread_id=None if topic is None else int(topic),
            also_in=tuple(chat_id for chat_id, _title in chats[1:]),
        )
    except PollNotPosted as exc:
        await edit_or_send(query, not_posted(exc))
        await notify_chat_not_posted(bot, exc.chat_id)
        return
    await edit_or_send(query, _("Posted in {chats}.").format(chats=chat_titles(data)))


async def on_cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await edit_or_send(query, _("Cancelled. No poll was posted."))


async def on_stale_button(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    """A button of another step than the current one: pressed twice, or from an old message."""
    callback_answer.text = out_of_date()


async def on_text_instead_of_buttons(message: Message) -> None:
    await message.answer(_("Please use the buttons above, or /cancel."))


def create_router() -> Router:
    router = Router(name="poll_wizard")
    private = F.chat.type == ChatType.PRIVATE
    typed = (private, F.text, ~F.text.startswith("/"))
    router.message.register(newpoll_command, Command("newpoll"), private)
    router.callback_query.register(on_cancel, _pressed("cancel"))
    router.callback_query.register(on_chat, PollWizard.chat, _pressed("chat"))
    router.callback_query.register(on_topic, PollWizard.topic, _pressed("topic"))
    router.callback_query.register(on_pool, PollWizard.pool, _pressed("pool"))
    router.callback_query.register(on_kind, PollWizard.kind, _pressed("kind"))
    router.callback_query.register(on_revoting, PollWizard.revoting, _pressed("revoting"))
    router.callback_query.register(on_content, PollWizard.content, _pressed("content"))
    router.callback_query.register(on_multiple, PollWizard.multiple, _pressed("multiple"))
    router.callback_query.register(on_close_choice, PollWizard.close, _pressed("close"))
    router.callback_query.register(on_post, PollWizard.preview, _pressed("post"))
    router.callback_query.register(on_stale_button, WizardCallback.filter())
    router.message.register(on_question, PollWizard.question, *typed)
    router.message.register(on_options, PollWizard.options, *typed)
    router.message.register(on_close_time, PollWizard.close, *typed)
    router.message.register(on_topic_text, PollWizard.topic, *typed)
    waiting_for_a_button = StateFilter(
        PollWizard.chat, PollWizard.pool, PollWizard.kind, PollWizard.revoting,
        PollWizard.content,
        PollWizard.multiple, PollWizard.preview,
    )  # fmt: skip
    router.message.register(on_text_instead_of_buttons, waiting_for_a_button, *typed)
    return router
