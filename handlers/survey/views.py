"""The survey's screens as (text, keyboard) pairs, and its typed button data. No side effects."""

from __future__ import annotations

import functools
import html
from typing import Any, Literal

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _

from bot.callback_types import StoredId
from bot.keyboards import SharedKeyboard, callback_button, inline_keyboard, shared_keyboard
from services.countries import collation_key, country_name
from services.survey.labels import answer_label, option_label, question_short, question_text
from services.survey.questions import (
    BY_CODE,
    COMMON_DESTINATIONS,
    SKIPPED,
    Answers,
    applicable,
    previous_question,
    progress,
)
from storage import Wave

COUNTRIES_PER_PAGE = 16
SUMMARY = "summary"
CHANGE = "change"


class SurveyCallback(CallbackData, prefix="sv"):
    action: Literal[
        "agree", "decline", "pick", "toggle", "done", "skip", "back", "page", "edit", "change",
        "submit",
    ]  # fmt: skip
    wave: StoredId
    step: str = ""
    value: str = ""


def published_view(k: int) -> str:
    """What the survey publishes, with the minimum group size in the right plural form."""
    return ngettext(
        "<b>What is published:</b> totals only; any group smaller than {k} person is hidden "
        "and cannot be worked out from the other figures.",
        "<b>What is published:</b> totals only; any group smaller than {k} people is hidden "
        "and cannot be worked out from the other figures.",
        k,
    ).format(k=k)


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
        "{published}\n\n"
        "<b>To delete your answers</b> while the wave is open: /forget.\n\n"
        "Nothing is stored until you press “I agree”."
    ).format(label=html.escape(wave.label), published=published_view(k))
    if already_answered:
        text += "\n\n" + _("You have already answered this wave; answering again replaces it.")
    keyboard = inline_keyboard(
        [
            callback_button(_("✅ I agree"), SurveyCallback(action="agree", wave=wave.id)),
            callback_button(_("No, thanks"), SurveyCallback(action="decline", wave=wave.id)),
        ],
        1,
    )
    return text, keyboard


@functools.cache  # the same for everyone who reads a locale: sorted once per locale
def country_pages(locale: str) -> tuple[tuple[str, ...], ...]:
    others = sorted(
        (code for code in BY_CODE["country"].options if code not in COMMON_DESTINATIONS),
        key=lambda code: collation_key(country_name(code, locale), locale),
    )
    return tuple(
        tuple(others[start : start + COUNTRIES_PER_PAGE])
        for start in range(0, len(others), COUNTRIES_PER_PAGE)
    )


def question_view(
    wave_id: int,
    answers: Answers,
    code: str,
    this_year: int,
    page: int = 0,
    picked: tuple[str, ...] = (),
    editing: bool = False,
) -> tuple[str, InlineKeyboardMarkup]:
    """One question; `editing`: reached from the summary, so Back returns to the list."""
    question = BY_CODE[code]
    position, count = progress(answers, code)
    current = answers.get(code)
    locale = get_i18n().current_locale
    text = f"<b>{position}/{count}</b> · " if count else f"<b>{position}.</b> "
    text += question_text(code)
    if question.common and not question.multiple:
        text += "\n" + _("Or type the country's name.")
    if current is not None and not question.multiple:
        text += "\n\n" + _("Your answer: {answer}").format(answer=answer_label(code, current))
    if question.common and not question.multiple and page > 0:
        text += "\n\n" + _("More countries, page {page} of {pages}").format(
            page=page, pages=len(country_pages(locale))
        )
    layout = (
        wave_id,
        code,
        question.options_for(answers, this_year),
        page,
        picked,
        editing,
        previous_question(answers, code) is not None,
    )
    # A keyboard with nothing picked is everyone's: built once. One with picks is built anew,
    # so no combination of someone's answers is kept beyond the update.
    if picked:
        buttons, widths = question_buttons(*layout)
        return text, inline_keyboard(buttons, *widths)
    return text, common_question_keyboard(locale, *layout)


@functools.lru_cache(maxsize=1024)  # per locale, wave and question, page, years: a few hundred
def common_question_keyboard(
    locale: str,
    wave_id: int,
    code: str,
    options: tuple[str, ...],
    page: int,
    picked: tuple[str, ...],
    editing: bool,
    has_previous: bool,
) -> SharedKeyboard:
    """A question's keyboard with nothing picked in `locale` (the current one): built and
    prepared for sending once."""
    layout = (wave_id, code, options, page, picked, editing, has_previous)
    buttons, widths = question_buttons(*layout)
    return shared_keyboard(buttons, *widths)


def question_buttons(
    wave_id: int,
    code: str,
    options: tuple[str, ...],
    page: int,
    picked: tuple[str, ...],
    editing: bool,
    has_previous: bool,
) -> tuple[list[InlineKeyboardButton], list[int]]:
    """The buttons of one question in the current locale, and the widths of their rows."""
    question = BY_CODE[code]
    buttons: list[InlineKeyboardButton] = []
    widths: list[int] = []

    def button(label: str, action: str, value: str = "", **extra: Any) -> None:
        buttons.append(
            callback_button(
                label,
                SurveyCallback(action=action, wave=wave_id, step=code, value=value, **extra),
            )
        )

    if question.multiple:
        for option in question.options:
            mark = "✅ " if option in picked else ""
            button(mark + option_label(code, option), "toggle", option)
        widths += [2] * ((len(question.options) + 1) // 2)
        button(_("Done ➡️"), "done")
        widths.append(1)
    elif question.common:
        pages = country_pages(get_i18n().current_locale)
        shown = question.common if page == 0 else pages[page - 1]
        for option in shown:
            button(option_label(code, option), "pick", option)
        widths += [2] * ((len(shown) + 1) // 2)
        nav = 0
        if page > 0:
            back = _("◀️ Usual countries") if page == 1 else _("◀️ Previous page")
            button(back, "page", str(page - 1))
            nav += 1
        if page < len(pages):
            more = _("🌍 More countries ▶️") if page == 0 else _("Next page ▶️")
            button(more, "page", str(page + 1))
            nav += 1
        widths.append(nav)
    else:
        for option in options:
            button(option_label(code, option), "pick", option)
        per_row = 1 if max(len(option_label(code, o)) for o in options) > 16 else 2
        widths += [per_row] * ((len(options) + per_row - 1) // per_row)
    button(_("Skip (prefer not to say)"), "skip")
    widths.append(1)
    if editing:
        button(_("⬅️ Back to the answers"), "back")
        widths.append(1)
    elif has_previous:
        button(_("⬅️ Back"), "back")
        widths.append(1)
    return buttons, [width for width in widths if width]


def summary_view(wave_id: int, answers: Answers) -> tuple[str, InlineKeyboardMarkup]:
    lines = [_("<b>Your answers</b>"), ""]
    for question in applicable(answers):
        value = answers.get(question.code, SKIPPED)
        lines.append(f"{question_short(question.code)}: {answer_label(question.code, value)}")
    lines += ["", _("Send them? You can change any answer first.")]
    keyboard = inline_keyboard(
        [
            callback_button(
                _("✅ Submit"), SurveyCallback(action="submit", wave=wave_id, step=SUMMARY)
            ),
            callback_button(
                _("✏️ Change an answer"),
                SurveyCallback(action="change", wave=wave_id, step=SUMMARY),
            ),
        ],
        1,
    )
    return "\n".join(lines), keyboard


def change_view(wave_id: int, answers: Answers) -> tuple[str, InlineKeyboardMarkup]:
    buttons = [
        callback_button(
            question_short(question.code),
            SurveyCallback(action="edit", wave=wave_id, step=CHANGE, value=question.code),
        )
        for question in applicable(answers)
    ]
    buttons.append(
        callback_button(_("⬅️ Back"), SurveyCallback(action="back", wave=wave_id, step=CHANGE))
    )
    return _("Which answer do you want to change?"), inline_keyboard(buttons, 2)


def country_matches_view(
    wave_id: int, code: str, found: list[str]
) -> tuple[str, InlineKeyboardMarkup]:
    """The countries a typed name could mean, as buttons that answer the question."""
    buttons = [
        callback_button(
            option_label(code, option),
            SurveyCallback(action="pick", wave=wave_id, step=code, value=option),
        )
        for option in found
    ]
    return _("Which one do you mean?"), inline_keyboard(buttons, 2)
