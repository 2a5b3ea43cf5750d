"""Every country's name in our three languages, from CLDR (Babel): no hand-kept lists."""

from __future__ import annotations

import functools

from babel import Locale

# Two-letter CLDR territories that are not countries people live in.
_NOT_COUNTRIES = frozenset(
    ("EU", "EZ", "UN", "ZZ", "QO", "XA", "XB", "AQ", "BV", "HM", "CP", "DG")
)


@functools.cache
def _territories(locale: str) -> dict[str, str]:
    names = Locale.parse(locale).territories
    return {
        code: name
        for code, name in names.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    }


@functools.cache
def country_codes() -> tuple[str, ...]:
    """ISO 3166 alpha-2 codes of all countries and territories CLDR names, sorted."""
    return tuple(sorted(_territories("en")))


def country_name(code: str, locale: str) -> str:
    """The country's name in `locale` (be, ru or en); the code itself if CLDR has none."""
    return _territories(locale).get(code.upper(), code.upper())


def all_names(code: str) -> tuple[str, ...]:
    """The country's name in every UI language."""
    return tuple(country_name(code, locale) for locale in ("be", "ru", "en"))
