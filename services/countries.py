"""Every country's name in our three languages, from CLDR (Babel): no hand-kept lists.

The names are read once into services/country_names.py (`python -m services.countries`), since
loading Babel's locale data in the bot would keep about 7 MiB of it resident for 750 strings;
a test checks that file against the installed Babel.
"""

from __future__ import annotations

import json
from pathlib import Path

from services.country_names import NAMES

LOCALES = ("be", "ru", "en")
# Two-letter CLDR territories that are not countries people live in.
_NOT_COUNTRIES = frozenset(
    ("EU", "EZ", "UN", "ZZ", "QO", "XA", "XB", "AQ", "BV", "HM", "CP", "DG")
)


def cldr_names(locale: str) -> dict[str, str]:
    """The country names in `locale` straight from Babel (for generating NAMES, and its test)."""
    from babel import Locale  # only here: its locale data is large

    names = Locale.parse(locale).territories
    return {
        code: name
        for code, name in sorted(names.items())
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    }


def country_codes() -> tuple[str, ...]:
    """ISO 3166 alpha-2 codes of all countries and territories CLDR names, sorted."""
    return tuple(sorted(NAMES["en"]))


def country_name(code: str, locale: str) -> str:
    """The country's name in `locale` (be, ru or en); the code itself if CLDR has none."""
    return NAMES[locale].get(code.upper(), code.upper())


def all_names(code: str) -> tuple[str, ...]:
    """The country's name in every UI language."""
    return tuple(country_name(code, locale) for locale in LOCALES)


def write_names(path: Path) -> None:
    """Write services/country_names.py from the installed Babel."""
    lines = [
        '"""Country names from CLDR, written by `python -m services.countries`; do not edit."""',
        "",
        "NAMES: dict[str, dict[str, str]] = {",
    ]
    for locale in LOCALES:
        lines.append(f'    "{locale}": {{')
        # JSON strings are Python literals too, in the double quotes ruff keeps.
        lines.extend(
            f"        {json.dumps(code)}: {json.dumps(name, ensure_ascii=False)},"
            for code, name in cldr_names(locale).items()
        )
        lines.append("    },")
    lines.append("}")
    path.write_text("\n".join(lines) + "\n", "utf-8")


if __name__ == "__main__":
    write_names(Path(__file__).with_name("country_names.py"))
