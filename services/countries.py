"""Every country's name in our three languages, from CLDR (Babel): no hand-kept lists; the
alphabetical order of each language, and a country found from its typed name.

The names are read once into services/country_names.py (`python -m services.countries`), since
loading Babel's locale data in the bot would keep about 7 MiB of it resident for 750 strings;
a test checks that file against the installed Babel.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
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
    """The country's name in `locale` (be, ru or en), in English where CLDR has no name in
    `locale` (Sark has none in be or ru), the code itself if it has none at all."""
    code = code.upper()
    return NAMES[locale].get(code) or NAMES["en"].get(code, code)


def all_names(code: str) -> tuple[str, ...]:
    """The country's name in every UI language."""
    return tuple(country_name(code, locale) for locale in LOCALES)


# Each alphabet in its own order: ё after е (ru, be), і and ў where Belarusian puts them.
# Babel has no collation and PyICU is heavy; names of countries need no more than this.
_ALPHABETS = {
    "be": "абвгдеёжзійклмнопрстуўфхцчшыьэюя",
    "ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
}
_LATIN = "abcdefghijklmnopqrstuvwxyz"


def _without_accents(text: str) -> str:
    """ "Côte" -> "cote", keeping ё, й and ў (letters of their own, not accented ones)."""
    return "".join(char if char in "ёйў" else _base_letter(char) for char in text.casefold())


def _base_letter(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(part for part in decomposed if not unicodedata.combining(part))


def collation_key(name: str, locale: str) -> tuple[int, ...]:
    """A sort key in `locale`'s alphabet order; other letters after it, punctuation ignored."""
    alphabet = _ALPHABETS.get(locale, "")
    order = {letter: rank for rank, letter in enumerate(alphabet + _LATIN, start=2)}
    key: list[int] = []
    for char in _without_accents(name):
        if char in order:
            key.append(order[char])
        elif char.isspace():
            key.append(1)  # "Saint Lucia" before "Saint-Barthélemy"... and before "Sainta"
        elif char.isalnum():
            key.append(len(order) + 2 + ord(char))
    return tuple(key)


def _folded(text: str) -> str:
    """A typed or CLDR name reduced to letters and single spaces, for matching."""
    plain = _without_accents(text).replace("ё", "е").replace("’", "").replace("'", "")
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


# Names people type that CLDR does not give as the name.
_ALIASES = {
    "usa": "US", "сша": "US", "америка": "US", "амерыка": "US",
    "uk": "GB", "britain": "GB", "england": "GB", "англия": "GB", "англія": "GB",
    "czech republic": "CZ", "чешская республика": "CZ",
    "holland": "NL", "голландия": "NL", "галандыя": "NL",
    "uae": "AE", "оаэ": "AE", "ааэ": "AE",
}  # fmt: skip


@functools.cache
def _names_index() -> dict[str, str]:
    index = {_folded(alias): code for alias, code in _ALIASES.items()}
    for code in country_codes():
        for locale in ("be", "ru", "en"):
            index.setdefault(_folded(country_name(code, locale)), code)
    return index


def find_countries(typed: str, codes: tuple[str, ...], limit: int = 8) -> list[str]:
    """Codes among `codes` whose name in any of our languages is `typed` (one code), or
    begins with it or a word of it does (several); at most `limit`, [] for none."""
    wanted = _folded(typed)
    if len(wanted) < 2:
        return []
    allowed = set(codes)
    index = _names_index()
    exact = index.get(wanted)
    if exact is not None:
        return [exact] if exact in allowed else []
    if len(wanted) < 3:
        return []
    found: list[str] = []
    for name, code in index.items():
        words = name.split()
        starts = name.startswith(wanted) or any(word.startswith(wanted) for word in words)
        if starts and code in allowed and code not in found:
            found.append(code)
    return sorted(found)[:limit]


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
