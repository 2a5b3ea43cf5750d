"""The survey's questions, their options and the branching by status. No free text anywhere.

Answers are option codes: a string for a single choice, a tuple for a multiple choice, and
SKIPPED ("prefer not to say") for either. A question that does not apply has no answer at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.countries import country_codes

SKIPPED = "-"
Answer = str | tuple[str, ...]
Answers = Mapping[str, Answer]

LEFT = ("left_before", "left_after")
MOVING = ("planning", "considering")
IN_BELARUS = ("staying", "returned")
# Status groups, each the population of the questions that follow for it.
STATUS_GROUPS = {"left": LEFT, "moving": MOVING, "in_belarus": IN_BELARUS}

# The usual destinations, offered as buttons before the full list of countries: those the
# dev.by relocation surveys of 2020-2022 name (Poland, Lithuania, Georgia, Ukraine, Uzbekistan,
# Germany, Cyprus, the USA...). Czechia, Spain, the UK, Canada and Israel are not added: none
# of the dev.by figures gathered (Sept 2020 to June 2022) names them; typing one finds it.
COMMON_DESTINATIONS = (
    "PL", "LT", "GE", "UA", "UZ", "LV", "AM", "RS", "DE", "CY", "KZ", "US", "NL", "ME",
)  # fmt: skip
FIRST_YEAR = 2020
# "Left before/after 24 Feb 2022": the year question offers only the years that fit.
WAR_YEAR = 2022


@dataclass(frozen=True)
class Question:
    code: str
    options: tuple[str, ...]
    multiple: bool = False
    # The statuses it is asked of; None: everyone.
    asked_of: tuple[str, ...] | None = None
    # For long lists: the options offered first; the rest come in a paged list.
    common: tuple[str, ...] = ()
    # After `options`, the years from FIRST_YEAR to the current one.
    yearly: bool = False

    def applies(self, answers: Answers) -> bool:
        return self.asked_of is None or answers.get("status") in self.asked_of

    def options_in(self, this_year: int) -> tuple[str, ...]:
        """The options offered in `this_year` (by the bot's clock, in TIMEZONE)."""
        if not self.yearly:
            return self.options
        return (*self.options, *(str(year) for year in range(FIRST_YEAR, this_year + 1)))

    def options_for(self, answers: Answers, this_year: int) -> tuple[str, ...]:
        """The options offered to this person: the years left only those their status allows."""
        options = self.options_in(this_year)
        if not self.yearly:
            return options
        status = answers.get("status")
        if status == "left_after":
            return tuple(o for o in options if o.isdigit() and int(o) >= WAR_YEAR)
        if status == "left_before":
            return tuple(o for o in options if not o.isdigit() or int(o) <= WAR_YEAR)
        return options

    def accepts(self, value: Answer, this_year: int, answers: Answers | None = None) -> bool:
        if value == SKIPPED:
            return True
        options = self.options_for(answers or {}, this_year)
        if self.multiple:
            return (
                isinstance(value, tuple)
                and len(value) > 0
                and len(set(value)) == len(value)
                and all(option in options for option in value)
            )
        return isinstance(value, str) and value in options


_COUNTRIES_ABROAD = tuple(code for code in country_codes() if code != "BY")

QUESTIONS: tuple[Question, ...] = (
    Question("status", ("left_before", "left_after", "planning", "considering", *IN_BELARUS)),
    Question("country", _COUNTRIES_ABROAD, asked_of=LEFT, common=COMMON_DESTINATIONS),
    Question("year_left", ("before_2020",), asked_of=LEFT, yearly=True),
    Question("destinations", (*COMMON_DESTINATIONS, "other"), multiple=True, asked_of=MOVING),
    Question(
        "reasons",
        ("safety", "politics", "economy", "career", "family", "children", "other"),
        multiple=True,
        asked_of=MOVING,
    ),
    Question(
        "deterrents",
        ("family", "documents", "cost", "language", "job", "housing", "other"),
        multiple=True,
        asked_of=MOVING,
    ),
    Question(
        "role",
        ("developer", "qa", "devops", "pm", "ba", "designer", "data", "management", "other"),
    ),
    Question("seniority", ("junior", "middle", "senior", "lead", "executive")),
    Question(
        "move_how",
        ("company_programme", "company_visa", "on_my_own", "not_applicable"),
        asked_of=LEFT,
    ),
    # "yes" came after the first waves: a new code, appended, so stored answers keep meaning.
    Question("return_plan", ("when_safe", "no", "undecided", "yes"), asked_of=LEFT),
)
BY_CODE = {question.code: question for question in QUESTIONS}


class InvalidAnswerError(ValueError):
    """An answer that is not one of the question's options (a forged or stale button)."""


def applicable(answers: Answers) -> list[Question]:
    """The questions this person is asked, in order, given their answers so far."""
    return [question for question in QUESTIONS if question.applies(answers)]


def with_answer(answers: Answers, code: str, value: Answer, this_year: int) -> dict[str, Answer]:
    """The answers with one more; answers to questions that no longer apply are dropped."""
    question = BY_CODE.get(code)
    if (
        question is None
        or not question.applies(answers)
        or not question.accepts(value, this_year, answers)
    ):
        raise InvalidAnswerError(f"{code}={value!r}")
    updated = {**answers, code: value}
    # A changed status can rule out earlier answers too (a year before the war after "left
    # after 24 Feb 2022"): those are asked again.
    return {
        q.code: updated[q.code]
        for q in applicable(updated)
        if q.code in updated and q.accepts(updated[q.code], this_year, updated)
    }


def next_unanswered(answers: Answers) -> Question | None:
    """The first applicable question without an answer; None when the survey is complete."""
    return next((q for q in applicable(answers) if q.code not in answers), None)


def next_question(answers: Answers, code: str) -> Question | None:
    """The applicable question after `code`; None after the last."""
    asked = applicable(answers)
    codes = [question.code for question in asked]
    if code not in codes:
        return next_unanswered(answers)
    position = codes.index(code)
    return asked[position + 1] if position + 1 < len(asked) else None


def previous_question(answers: Answers, code: str) -> Question | None:
    """The applicable question before `code` (for Back); None at the first."""
    asked = applicable(answers)
    codes = [question.code for question in asked]
    if code not in codes:
        return None
    position = codes.index(code)
    return asked[position - 1] if position > 0 else None


def progress(answers: Answers, code: str) -> tuple[int, int | None]:
    """(position, count) of a question among those this person is asked, e.g. (3, 7); the
    count is None until the status is known, as it depends on it (a total never jumps)."""
    codes = [question.code for question in applicable(answers)]
    position = codes.index(code) + 1 if code in codes else len(codes)
    return (position, len(codes) if "status" in answers else None)


def is_complete(answers: Answers) -> bool:
    return next_unanswered(answers) is None and "status" in answers
