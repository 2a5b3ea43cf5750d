"""/survey: consent, then one question at a time in ONE message edited in place, a summary,
and Submit. The unfinished survey lives in the (encrypted) FSM storage, so it resumes where it
stopped, also after a restart; nothing is stored before "I agree"."""

from __future__ import annotations

import datetime as dt

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandStart, Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from handlers.common.menu import MenuCallback
from handlers.common.replies import edit_or_send, out_of_date
from handlers.survey.notify import notify_keyboard
from handlers.survey.progress import Progress, apply_button
from handlers.survey.views import SurveyCallback, consent_view, country_matches_view
from services.clock import Clock
from services.countries import find_countries
from services.policy import Policy
from services.privacy import Keyring
from services.survey.questions import (
    BY_CODE,
    InvalidAnswerError,
    is_complete,
    next_unanswered,
)
from services.survey.waves import has_answered, submit_response
from storage import Storage, Wave


class SurveyStates(StatesGroup):
    answering = State()


async def survey_command(
    message: Message,
    state: FSMContext,
    storage: Storage,
    keyring: Keyring,
    policy: Policy,
    clock: Clock,
) -> None:
    """/survey in a private chat (in a group, handlers.common.private_only answers)."""
    this_year = clock.today(policy.timezone).year
    await offer_survey(message, state, storage, keyring, policy.min_cell_size, this_year)


async def survey_deep_link(
    message: Message,
    state: FSMContext,
    storage: Storage,
    keyring: Keyring,
    policy: Policy,
    clock: Clock,
) -> None:
    this_year = clock.today(policy.timezone).year
    await offer_survey(message, state, storage, keyring, policy.min_cell_size, this_year)


async def survey_from_menu(
    query: CallbackQuery,
    state: FSMContext,
    storage: Storage,
    keyring: Keyring,
    policy: Policy,
    clock: Clock,
    callback_answer: CallbackAnswer,
) -> None:
    message = query.message
    if not isinstance(message, Message) or message.chat.type != ChatType.PRIVATE:
        callback_answer.text = _(
            "The survey is answered in a private chat with me: send me /survey there."
        )
        callback_answer.show_alert = True
        return
    this_year = clock.today(policy.timezone).year
    await offer_survey(
        message, state, storage, keyring, policy.min_cell_size, this_year, user=query.from_user
    )


async def offer_survey(
    message: Message,
    state: FSMContext,
    storage: Storage,
    keyring: Keyring,
    k: int,
    this_year: int,
    *,
    user: User | None = None,
) -> None:
    """Consent, the question where an unfinished survey stopped, or "no wave open"; `user`
    when it is not the message's author (a menu button pressed under the bot's message)."""
    user = user or message.from_user
    if user is None:
        return
    wave = await storage.survey.current_wave()
    progress_ = await unfinished_survey(state, this_year)
    if progress_ is not None and (wave is None or progress_.wave != wave.id):
        # Left over from a closed wave (closing it normally deletes it already).
        await state.clear()
        progress_ = None
    if wave is None:
        subscribed = await storage.subscriptions.is_subscribed(keyring.subscriber(user.id))
        await message.answer(
            _("No survey wave is open right now."), reply_markup=notify_keyboard(subscribed)
        )
        return
    if progress_ is not None:
        text, keyboard = progress_.view()
        await message.answer(_("Let's continue where you stopped."))
        await message.answer(text, reply_markup=keyboard)
        return
    text, keyboard = consent_view(wave, await has_answered(storage, keyring, wave, user.id), k)
    await message.answer(text, reply_markup=keyboard)


async def unfinished_survey(state: FSMContext, this_year: int) -> Progress | None:
    if await state.get_state() != SurveyStates.answering.state:
        return None
    return Progress(await state.get_data(), this_year)


async def on_survey_button(
    query: CallbackQuery,
    callback_data: SurveyCallback,
    state: FSMContext,
    storage: Storage,
    keyring: Keyring,
    clock: Clock,
    policy: Policy,
    callback_answer: CallbackAnswer,
) -> None:
    wave = await storage.survey.current_wave()
    if wave is None or wave.id != callback_data.wave:
        callback_answer.text = _("This survey wave has closed.")
        callback_answer.show_alert = True
        return
    action = callback_data.action
    if action == "decline":
        await state.clear()
        await edit_or_send(query, _("All right. Nothing was stored."))
        return
    today = clock.today(policy.timezone)
    answering = await state.get_state() == SurveyStates.answering.state
    progress_ = Progress(await state.get_data(), today.year) if answering else None
    if action == "agree":
        if progress_ is None or progress_.wave != wave.id:
            progress_ = Progress({"wave": wave.id}, today.year)
            await state.set_state(SurveyStates.answering)
            await state.set_data(progress_.as_data())
        await show(query, progress_)
        return
    if progress_ is None or progress_.wave != wave.id or callback_data.step != progress_.step:
        # A stale message, a double tap or forged data: nothing changes.
        callback_answer.text = out_of_date()
        return
    if action == "submit":
        await submit(query, state, storage, keyring, wave, progress_, today, policy.min_cell_size)
        return
    try:
        changed = apply_button(progress_, callback_data)
    except InvalidAnswerError:
        callback_answer.text = out_of_date()
        return
    if changed is not None:
        callback_answer.text = changed
        return
    await state.set_data(progress_.as_data())
    await show(query, progress_)


class AnsweringCountry(Filter):
    """The survey waits for a country: a typed name may answer it."""

    async def __call__(self, message: Message, state: FSMContext) -> bool:
        question = BY_CODE.get(str((await state.get_data()).get("step", "")))
        return question is not None and bool(question.common) and not question.multiple


async def on_typed_country(
    message: Message,
    state: FSMContext,
    storage: Storage,
    clock: Clock,
    policy: Policy,
) -> None:
    """A country's name typed in any of our languages picks it, or offers the few it may mean."""
    wave = await storage.survey.current_wave()
    progress_ = Progress(await state.get_data(), clock.today(policy.timezone).year)
    if wave is None or progress_.wave != wave.id:
        await message.answer(_("This survey wave has closed."))
        return
    code = progress_.step
    found = find_countries(message.text or "", BY_CODE[code].options)
    if not found:
        await message.answer(
            _(
                "I could not find that country. Try another spelling, or choose it with the "
                "buttons."
            )
        )
        return
    if len(found) > 1:
        text, keyboard = country_matches_view(wave.id, code, found)
        await message.answer(text, reply_markup=keyboard)
        return
    apply_button(progress_, SurveyCallback(action="pick", wave=wave.id, step=code, value=found[0]))
    await state.set_data(progress_.as_data())
    text, keyboard = progress_.view()
    await message.answer(text, reply_markup=keyboard)


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
    today: dt.date,
    k: int,
) -> None:
    user: User = query.from_user
    if not is_complete(progress_.answers):
        missing = next_unanswered(progress_.answers)
        progress_.go(missing.code if missing else "status")
        await state.set_data(progress_.as_data())
        await show(query, progress_)
        return
    await submit_response(storage, keyring, wave, user.id, progress_.answers, today, k)
    await state.clear()
    # The message that held the answers becomes neutral: the chat keeps no trail of them.
    await edit_or_send(
        query,
        _(
            "🙏 Thank you! Your answers are saved anonymously. /stats shows the results once "
            "enough people have answered; /forget deletes your answers."
        ),
    )


def create_router() -> Router:
    router = Router(name="survey")
    private = F.chat.type == ChatType.PRIVATE
    router.message.register(
        survey_deep_link, CommandStart(deep_link=True, magic=F.args == "survey"), private
    )
    router.message.register(survey_command, Command("survey"), private)
    router.message.register(
        on_typed_country,
        SurveyStates.answering,
        private,
        F.text,
        ~F.text.startswith("/"),  # /cancel and the other commands stay theirs
        AnsweringCountry(),
    )
    router.callback_query.register(on_survey_button, SurveyCallback.filter())
    router.callback_query.register(survey_from_menu, MenuCallback.filter(F.action == "survey"))
    return router
