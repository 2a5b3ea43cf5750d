"""The survey's words in the current language: questions, options and answers."""

from __future__ import annotations

import functools

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from services.countries import country_name
from services.survey.aggregates import OTHER
from services.survey.questions import SKIPPED, Answer


def flag(code: str) -> str:
    """The flag emoji of an ISO country code."""
    return "".join(chr(0x1F1E6 + ord(letter) - ord("A")) for letter in code.upper())


def question_text(code: str) -> str:
    return _question_texts(get_i18n().current_locale).get(code, code)


@functools.cache  # asked on every survey screen: translated once per locale
def _question_texts(locale: str) -> dict[str, str]:
    """Every question in `locale`, which is the current locale when it is built."""
    return {
        "status": _("Where are you now with relocation?"),
        "country": _("Which country do you live in now?"),
        "year_left": _("When did you leave Belarus?"),
        "destinations": _("Where would you like to move? Choose all that apply, then Done."),
        "reasons": _("What are your main reasons to leave? Choose all that apply, then Done."),
        "deterrents": _("What holds you back? Choose all that apply, then Done."),
        "role": _("What is your role?"),
        "seniority": _("Your seniority?"),
        "move_how": _("How did the move happen?"),
        "return_plan": _("Do you plan to return to Belarus?"),
    }


def question_short(code: str) -> str:
    """The question's name in summaries and tables."""
    return _question_names(get_i18n().current_locale).get(code, code)


@functools.cache
def _question_names(locale: str) -> dict[str, str]:
    """Every question's short name in `locale`, which is the current locale when it is built."""
    return {
        "status": _("Status"),
        "country": _("Country now"),
        "year_left": _("Year left"),
        "destinations": _("Preferred destinations"),
        "reasons": _("Reasons to leave"),
        "deterrents": _("What holds back"),
        "role": _("Role"),
        "seniority": _("Seniority"),
        "move_how": _("How the move happened"),
        "return_plan": _("Plans to return"),
    }


def option_label(question: str, option: str) -> str:
    if option == SKIPPED:
        return _("Prefer not to say")
    if option == OTHER:
        return _("Other (smaller groups)")
    if question in ("country", "destinations") and len(option) == 2:
        return f"{flag(option)} {country_name(option, get_i18n().current_locale)}"
    if question == "year_left":
        return _("Before 2020") if option == "before_2020" else option
    return _option_labels(get_i18n().current_locale).get(option, option)


@functools.cache  # a survey screen asks for a dozen labels: translated once per locale
def _option_labels(locale: str) -> dict[str, str]:
    """Every option's label in `locale`, which is the current locale when it is built."""
    return {
        # status
        "left_before": _("Left before 24 Feb 2022"),
        "left_after": _("Left after 24 Feb 2022"),
        "planning": _("Planning to leave"),
        "considering": _("Considering leaving"),
        "staying": _("Staying in Belarus"),
        "returned": _("Returned to Belarus"),
        "left": _("Left Belarus"),
        "moving": _("Planning or considering leaving"),
        "in_belarus": _("In Belarus"),
        # reasons and deterrents
        "safety": _("Safety"),
        "politics": _("Politics"),
        "economy": _("Economy"),
        "career": _("Career"),
        "family": _("Family"),
        "children": _("Children's future"),
        "documents": _("Documents, passport"),
        "cost": _("Cost of moving"),
        "language": _("Language"),
        "job": _("Finding a job"),
        "housing": _("Housing"),
        # roles
        "developer": _("Developer"),
        "qa": _("QA"),
        "devops": _("DevOps"),
        "pm": _("Project / product manager"),
        "ba": _("Business analyst"),
        "designer": _("Designer"),
        "data": _("Data / ML"),
        "management": _("Management"),
        # seniority
        "junior": _("Junior"),
        "middle": _("Middle"),
        "senior": _("Senior"),
        "lead": _("Lead / principal"),
        "executive": _("Executive"),
        # how the move happened
        "company_programme": _("Company relocation programme"),
        "company_visa": _("Company-sponsored visa (e.g. PBH)"),
        "on_my_own": _("On my own"),
        "not_applicable": _("Not applicable"),
        # plans to return
        "yes": _("Yes"),
        "when_safe": _("When it is safe"),
        "no": _("No"),
        "undecided": _("Undecided"),
        "other": _("Other"),
    }


def answer_label(question: str, answer: Answer) -> str:
    if isinstance(answer, tuple):
        return ", ".join(option_label(question, option) for option in answer)
    return option_label(question, answer)
