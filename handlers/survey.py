"""/survey: consent, then one question at a time in ONE message edited in place, a summary,
and Submit. The unfinished survey lives in the (encrypted) FSM storage, so it resumes where it
stopped, also after a restart; nothing is stored before "I agree"."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.replies import edit_or_send
from handlers.survey_labels import answer_label, option_label, question_short, question_text
from services.countries import country_name
from services.privacy import Keyring
from services.survey.questions import (
    BY_CODE,
    COMMON_DESTINATIONS,
    SKIPPED,
    Answer,
    Answers,
    InvalidAnswerError,
    applicable,
    is_complete,
    next_question,
    next_unanswered,
    previous_question,
    progress,
    with_answer,
)
from services.survey.waves import (
    decode_answers,
    encode_answers,
    has_answered,
    submit_response,
)
from storage import Storage, Wave

COUNTRIES_PER_PAGE = 16
SUMMARY = "summary"
CHANGE = "change"


class SurveyCallback(CallbackData, prefix="sv"):
    action: Literal[
        "agree", "decline", "pick", "toggle", "done", "skip", "back", "page", "edit", "change",
        "submit",
    ]  # fmt: skip
    wave: int
    step: str = ""
    value: str = ""


class NotifyCallback(CallbackData, prefix="nt"):
    on: bool


class SurveyStates(StatesGroup):
    answering = State()


# ---- views: (text, keyboard), no side effects --------------------------------------------


def consent_view(wave: Wave, already_answered: bool, k: int) -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "<b>📋 Survey: {label}</b>\n\n"
        "<b>What I ask:</b> where you are with relocation, the country you live in and when "
        "you left, or where you would like to go and why; your role and seniority; how the "
        "move happened; whether you plan to return. Buttons only, no free text; every "
        "question can be skipped.\n\n"
        "<b>What I store:</b> your answers as option codes, under a pseudonym made with this "
        "wave's own key, and the week you answered. Never your id, name or username. When "
        "the wave closes its key is destroyed: from then on nobody, the operator included, "
        "can tell which answers were yours.\n\n"
        "<b>What is published:</b> totals only; any group smaller than {k} people is hidden "
        "and cannot be worked out from the other figures.\n\n"
        "<b>To delete your answers</b> while the wave is open: /forget.\n\n"
        "Nothing is stored until you press “I agree”."
    ).format(label=wave.label, k=k)
    if already_answered:
        text += "\n\n" + _("You have already answered this wave; answering again replaces it.")
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ I agree"), callback_data=SurveyCallback(action="agree", wave=wave.id)
    )
    builder.button(
        text=_("No, thanks"), callback_data=SurveyCallback(action="decline", wave=wave.id)
    )
    builder.adjust(1)
    return text, builder.as_markup()


def _country_pages(locale: str) -> list[list[str]]:
    others = sorted(
        (code for code in BY_CODE["country"].options if code not in COMMON_DESTINATIONS),
        key=lambda code: country_name(code, locale),
    )
    return [
        others[start : start + COUNTRIES_PER_PAGE]
        for start in range(0, len(others), COUNTRIES_PER_PAGE)
    ]


def question_view(
    wave_id: int, answers: Answers, code: str, page: int = 0, picked: tuple[str, ...] = ()
) -> tuple[str, InlineKeyboardMarkup]:
    question = BY_CODE[code]
    position, count = progress(answers, code)
    current = answers.get(code)
    text = f"<b>{position}/{count}</b> · {question_text(code)}"
    if current is not None and not question.multiple:
        text += "\n\n" + _("Your answer: {answer}").format(answer=answer_label(code, current))
    builder = InlineKeyboardBuilder()
    widths: list[int] = []

    def button(label: str, action: str, value: str = "", **extra: Any) -> None:
        builder.button(
            text=label,
            callback_data=SurveyCallback(
                action=action, wave=wave_id, step=code, value=value, **extra
            ),
        )

    if question.multiple:
        for option in question.options:
            mark = "✅ " if option in picked else ""
            button(mark + option_label(code, option), "toggle", option)
        widths += [2] * ((len(question.options) + 1) // 2)
        button(_("Done ➡️"), "done")
        widths.append(1)
    elif question.common:
        pages = _country_pages(get_i18n().current_locale)
        shown = question.common if page == 0 else tuple(pages[page - 1])
        for option in shown:
            button(option_label(code, option), "pick", option)
        widths += [2] * ((len(shown) + 1) // 2)
        nav = 0
        if page > 0:
            button(_("◀️ Back to the list"), "page", str(page - 1))
            nav += 1
        if page < len(pages):
            button(_("🌍 More countries ▶️") if page == 0 else "▶️", "page", str(page + 1))
            nav += 1
        widths.append(nav)
    else:
        for option in question.options:
            button(option_label(code, option), "pick", option)
        per_row = 1 if max(len(option_label(code, o)) for o in question.options) > 16 else 2
        widths += [per_row] * ((len(question.options) + per_row - 1) // per_row)
    button(_("Skip (prefer not to say)"), "skip")
    widths.append(1)
    if previous_question(answers, code) is not None:
        button(_("⬅️ Back"), "back")
        widths.append(1)
    builder.adjust(*[width for width in widths if width])
    return text, builder.as_markup()


def summary_view(wave_id: int, answers: Answers) -> tuple[str, InlineKeyboardMarkup]:
    lines = [_("<b>Your answers</b>"), ""]
    for question in applicable(answers):
        value = answers.get(question.code, SKIPPED)
        lines.append(f"{question_short(question.code)}: {answer_label(question.code, value)}")
    lines += ["", _("Send them? You can change any answer first.")]
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ Submit"),
        callback_data=SurveyCallback(action="submit", wave=wave_id, step=SUMMARY),
    )
    builder.button(
        text=_("✏️ Change an answer"),
        callback_data=SurveyCallback(action="change", wave=wave_id, step=SUMMARY),
    )
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


def change_view(wave_id: int, answers: Answers) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    for question in applicable(answers):
        builder.button(
            text=question_short(question.code),
            callback_data=SurveyCallback(
                action="edit", wave=wave_id, step=CHANGE, value=question.code
            ),
        )
    builder.button(
        text=_("⬅️ Back"), callback_data=SurveyCallback(action="back", wave=wave_id, step=CHANGE)
    )
    builder.adjust(2)
    return _("Which answer do you want to change?"), builder.as_markup()


# ---- the dialogue state --------------------------------------------------------------------


class Progress:
    """The unfinished survey as kept in the FSM data."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.wave = int(data.get("wave", 0))
        self.answers: dict[str, Answer] = decode_answers(data.get("answers", "{}"))
        self.step = str(data.get("step", "status"))
        self.page = int(data.get("page", 0))
        self.picked = tuple(str(option) for option in data.get("picked", ()))
        self.editing = bool(data.get("editing", False))

    def as_data(self) -> dict[str, Any]:
        return {
            "wave": self.wave,
            "answers": encode_answers(self.answers),
            "step": self.step,
            "page": self.page,
            "picked": list(self.picked),
            "editing": self.editing,
        }

    def go(self, step: str) -> None:
        self.step, self.page = step, 0
        current = self.answers.get(step)
        self.picked = current if isinstance(current, tuple) else ()

    def view(self) -> tuple[str, InlineKeyboardMarkup]:
        if self.step == SUMMARY:
            return summary_view(self.wave, self.answers)
        if self.step == CHANGE:
            return change_view(self.wave, self.answers)
        return question_view(self.wave, self.answers, self.step, self.page, self.picked)


def step_after_answer(progress_: Progress, code: str) -> str:
    """Forward to the next question; when changing from the summary, back to it (or to a
    question the change made necessary)."""
    if progress_.editing:
        missing = next_unanswered(progress_.answers)
        return SUMMARY if missing is None else missing.code
    following = next_question(progress_.answers, code)
    if following is None:
        missing = next_unanswered(progress_.answers)
        return SUMMARY if missing is None else missing.code
    return following.code


# ---- handlers ---------------------------------------------------------------------------


async def survey_command(
    message: Message,
    state: FSMContext,
    storage: Storage,
    keyring: Keyring,
    bot: Bot,
    min_cell_size: int,
) -> None:
    if message.chat.type != ChatType.PRIVATE:
        username = (await bot.me()).username or ""
        builder = InlineKeyboardBuilder()
        builder.button(
            text=_("📋 Take the survey privately"), url=f"https://t.me/{username}?start=survey"
        )
        await message.reply(
            _("The survey is answered in a private chat with me, so nobody here sees it."),
            reply_markup=builder.as_markup(),
        )
        return
    await offer_survey(message, state, storage, keyring, min_cell_size)


async def survey_deep_link(
    message: Message, state: FSMContext, storage: Storage, keyring: Keyring, min_cell_size: int
) -> None:
    await offer_survey(message, state, storage, keyring, min_cell_size)


async def offer_survey(
    message: Message, state: FSMContext, storage: Storage, keyring: Keyring, k: int
) -> None:
    user = message.from_user
    if user is None:
        return
    wave = await storage.survey.current_wave()
    if wave is None:
        subscribed = await storage.subscriptions.is_subscribed(keyring.subscriber(user.id))
        await message.answer(
            _("No survey wave is open right now."), reply_markup=notify_keyboard(subscribed)
        )
        return
    if await state.get_state() == SurveyStates.answering.state:
        progress_ = Progress(await state.get_data())
        if progress_.wave == wave.id:
            text, keyboard = progress_.view()
            await message.answer(_("Let's continue where you stopped."))
            await message.answer(text, reply_markup=keyboard)
            return
        await state.clear()
    text, keyboard = consent_view(wave, await has_answered(storage, keyring, wave, user.id), k)
    await message.answer(text, reply_markup=keyboard)


async def on_survey_button(
    query: CallbackQuery,
    callback_data: SurveyCallback,
    state: FSMContext,
    storage: Storage,
    keyring: Keyring,
) -> None:
    wave = await storage.survey.current_wave()
    if wave is None or wave.id != callback_data.wave:
        await query.answer(_("This survey wave has closed."), show_alert=True)
        return
    action = callback_data.action
    if action == "decline":
        await state.clear()
        await edit_or_send(query, _("All right. Nothing was stored."))
        return
    answering = await state.get_state() == SurveyStates.answering.state
    progress_ = Progress(await state.get_data()) if answering else None
    if action == "agree":
        if progress_ is None or progress_.wave != wave.id:
            progress_ = Progress({"wave": wave.id})
            await state.set_state(SurveyStates.answering)
            await state.set_data(progress_.as_data())
        await show(query, progress_)
        return
    if progress_ is None or progress_.wave != wave.id or callback_data.step != progress_.step:
        # A stale message, a double tap or forged data: nothing changes.
        await query.answer(_("This button is out of date."))
        return
    if action == "submit":
        await submit(query, state, storage, keyring, wave, progress_)
        return
    try:
        changed = apply_button(progress_, callback_data)
    except InvalidAnswerError:
        await query.answer(_("This button is out of date."))
        return
    if changed is not None:
        await query.answer(changed)
        return
    await state.set_data(progress_.as_data())
    await show(query, progress_)


def apply_button(progress_: Progress, button: SurveyCallback) -> str | None:
    """Apply one button to the progress; a returned text is a notice and nothing changed.

    Raises InvalidAnswerError for options that do not belong to the question.
    """
    step, value = progress_.step, button.value
    if button.action in ("pick", "skip"):
        answer: Answer = SKIPPED if button.action == "skip" else value
        if step not in BY_CODE or (BY_CODE[step].multiple and button.action == "pick"):
            raise InvalidAnswerError(value)
        progress_.answers = with_answer(progress_.answers, step, answer)
        progress_.go(step_after_answer(progress_, step))
    elif button.action == "toggle":
        question = BY_CODE.get(step)
        if question is None or not question.multiple or value not in question.options:
            raise InvalidAnswerError(value)
        chosen = set(progress_.picked) ^ {value}
        progress_.picked = tuple(option for option in question.options if option in chosen)
    elif button.action == "done":
        if step not in BY_CODE or not BY_CODE[step].multiple:
            raise InvalidAnswerError(step)
        if not progress_.picked:
            return _("Choose at least one option, or Skip.")
        progress_.answers = with_answer(progress_.answers, step, progress_.picked)
        progress_.go(step_after_answer(progress_, step))
    elif button.action == "page":
        if not value.isdigit() or step not in BY_CODE or not BY_CODE[step].common:
            raise InvalidAnswerError(value)
        pages = len(_country_pages(get_i18n().current_locale))
        progress_.page = min(int(value), pages)
    elif button.action == "back":
        if step == CHANGE:
            progress_.go(SUMMARY)
        elif step == SUMMARY:
            progress_.go(applicable(progress_.answers)[-1].code)
        else:
            previous = previous_question(progress_.answers, step)
            if previous is None:
                raise InvalidAnswerError(step)
            progress_.go(previous.code)
    elif button.action == "change":
        progress_.go(CHANGE)
    elif button.action == "edit":
        if value not in {question.code for question in applicable(progress_.answers)}:
            raise InvalidAnswerError(value)
        progress_.editing = True
        progress_.go(value)
    return None


async def show(query: CallbackQuery, progress_: Progress) -> None:
    text, keyboard = progress_.view()
    await edit_or_send(query, text, keyboard)


async def submit(
    query: CallbackQuery,
    state: FSMContext,
    storage: Storage,
    keyring: Keyring,
    wave: Wave,
    progress_: Progress,
) -> None:
    user: User = query.from_user
    if not is_complete(progress_.answers):
        missing = next_unanswered(progress_.answers)
        progress_.go(missing.code if missing else "status")
        await state.set_data(progress_.as_data())
        await show(query, progress_)
        return
    await submit_response(storage, keyring, wave, user.id, progress_.answers, dt.date.today())
    await state.clear()
    # The message that held the answers becomes neutral: the chat keeps no trail of them.
    await edit_or_send(
        query,
        _(
            "🙏 Thank you! Your answers are saved anonymously. /stats shows the results once "
            "enough people have answered; /forget deletes your answers."
        ),
    )


def notify_keyboard(subscribed: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if subscribed:
        builder.button(
            text=_("🔕 Stop telling me about new waves"), callback_data=NotifyCallback(on=False)
        )
    else:
        builder.button(
            text=_("🔔 Tell me when a new wave opens"), callback_data=NotifyCallback(on=True)
        )
    return builder.as_markup()


async def notify_command(
    message: Message, command: CommandObject, storage: Storage, keyring: Keyring
) -> None:
    user = message.from_user
    if user is None:
        return
    subscribed = await storage.subscriptions.is_subscribed(keyring.subscriber(user.id))
    text = (
        _("🔔 You will get a message when a new survey wave opens.")
        if subscribed
        else _("You do not get messages about new survey waves.")
    )
    await message.answer(text, reply_markup=notify_keyboard(subscribed))


async def on_notify_button(
    query: CallbackQuery, callback_data: NotifyCallback, storage: Storage, keyring: Keyring
) -> None:
    user = query.from_user
    subscriber = keyring.subscriber(user.id)
    if callback_data.on:
        wave = await storage.survey.current_wave()
        payload = {"chat": user.id, "locale": get_i18n().current_locale}
        await storage.subscriptions.subscribe(
            subscriber,
            keyring.subscriber_sealer.seal_json(payload),
            # Someone subscribing now knows of the open wave already.
            0 if wave is None else wave.id,
        )
        text = _("🔔 Done: I will tell you when a new survey wave opens.")
    else:
        await storage.subscriptions.unsubscribe(subscriber)
        text = _("🔕 Done: no more messages about new waves.")
    await edit_or_send(query, text, notify_keyboard(callback_data.on))


def create_router() -> Router:
    router = Router(name="survey")
    private = F.chat.type == ChatType.PRIVATE
    router.message.register(
        survey_deep_link, CommandStart(deep_link=True, magic=F.args == "survey"), private
    )
    router.message.register(survey_command, Command("survey"))
    router.message.register(notify_command, Command("notify"), private)
    router.callback_query.register(on_survey_button, SurveyCallback.filter())
    router.callback_query.register(on_notify_button, NotifyCallback.filter())
    return router
