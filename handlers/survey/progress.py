"""The unfinished survey as kept in the (encrypted) FSM data, and what each button does to it:
plain functions, no Telegram calls."""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from handlers.survey.views import (
    CHANGE,
    SUMMARY,
    SurveyCallback,
    change_view,
    country_pages,
    question_view,
    summary_view,
)
from services.survey.questions import (
    BY_CODE,
    SKIPPED,
    Answer,
    InvalidAnswerError,
    applicable,
    next_question,
    next_unanswered,
    previous_question,
    with_answer,
)
from services.survey.waves import WAVE_DATA_KEY, decode_answers, encode_answers


class Progress:
    """The unfinished survey as kept in the FSM data."""

    def __init__(self, data: dict[str, Any], this_year: int) -> None:
        self.this_year = this_year  # by the bot's clock: the year question's last option
        self.wave = int(data.get(WAVE_DATA_KEY, 0))
        self.answers: dict[str, Answer] = decode_answers(data.get("answers", "{}"))
        self.step = str(data.get("step", "status"))
        self.page = int(data.get("page", 0))
        self.picked = tuple(str(option) for option in data.get("picked", ()))
        self.editing = bool(data.get("editing", False))

    def as_data(self) -> dict[str, Any]:
        return {
            WAVE_DATA_KEY: self.wave,
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
        return question_view(
            self.wave,
            self.answers,
            self.step,
            self.this_year,
            self.page,
            self.picked,
            editing=self.editing,
        )


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


def apply_button(progress_: Progress, button: SurveyCallback) -> str | None:
    """Apply one button to the progress; a returned text is a notice and nothing changed.

    Raises InvalidAnswerError for options that do not belong to the question.
    """
    step, value = progress_.step, button.value
    if button.action in ("pick", "skip"):
        answer: Answer = SKIPPED if button.action == "skip" else value
        if step not in BY_CODE or (BY_CODE[step].multiple and button.action == "pick"):
            raise InvalidAnswerError(value)
        progress_.answers = with_answer(progress_.answers, step, answer, progress_.this_year)
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
        progress_.answers = with_answer(
            progress_.answers, step, progress_.picked, progress_.this_year
        )
        progress_.go(step_after_answer(progress_, step))
    elif button.action == "page":
        if not value.isdigit() or step not in BY_CODE or not BY_CODE[step].common:
            raise InvalidAnswerError(value)
        pages = len(country_pages(get_i18n().current_locale))
        progress_.page = min(int(value), pages)
    elif button.action == "back":
        if step == CHANGE:
            progress_.go(SUMMARY)
        elif progress_.editing and step in BY_CODE:
            progress_.go(CHANGE)  # a question opened from the summary: back to the list
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
