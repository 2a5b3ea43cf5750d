"""The country names the bot ships are CLDR's, as the installed Babel has them."""

from __future__ import annotations

from services.countries import LOCALES, cldr_names, country_codes, country_name
from services.country_names import NAMES


def test_the_shipped_names_are_babels() -> None:
    # On a Babel upgrade that changes a name: `python -m services.countries` writes them again.
    assert {locale: cldr_names(locale) for locale in LOCALES} == NAMES


def test_names_by_code_in_every_language() -> None:
    assert "PL" in country_codes()
    assert "EU" not in country_codes()
    assert [country_name("pl", locale) for locale in LOCALES] == ["Польшча", "Польша", "Poland"]
    assert country_name("xx", "en") == "XX"
