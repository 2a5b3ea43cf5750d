"""Ready polls in the current language: "Where do you live now?" and "Your status"."""

from __future__ import annotations

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from services.countries import country_name
from services.polls.parsing import PollDraft
from services.survey.labels import flag

WHERE_COUNTRIES = ("PL", "LT", "GE", "UA", "UZ", "LV", "AM", "RS", "DE", "US")
TEMPLATES = ("where", "status")


def template_draft(
    name: str, *, census: bool = False, hidden_counts: bool = False
) -> PollDraft | None:
    locale = get_i18n().current_locale
    if name == "where":
        options = [f"{flag(code)} {country_name(code, locale)}" for code in WHERE_COUNTRIES]
        options += [f"{flag('BY')} {country_name('BY', locale)}", _("🌍 Another country")]
        return PollDraft(
            _("Where do you live now?"), tuple(options), census=census, hidden_counts=hidden_counts
        )
    if name == "status":
        options = [
            _("Left before 24 Feb 2022"),
            _("Left after 24 Feb 2022"),
            _("Planning to leave"),
            _("Considering leaving"),
            _("Staying in Belarus"),
            _("Returned to Belarus"),
        ]
        return PollDraft(
            _("Your status?"), tuple(options), census=census, hidden_counts=hidden_counts
        )
    return None
