"""Catalogs are complete, current with the code, and real in every language."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, compile_catalogs, create_i18n
from bot.settings import LOCALES

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "__": None, "lazy_gettext": None, "ngettext": (1, 2)}
PLURAL_FORMS = {
    "be": "(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2)",
    "ru": "(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2)",
    "en": "(n != 1)",
}


def load(locale: str) -> Catalog:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        return read_po(po_file, locale=locale)


def ids_in_code() -> set[str]:
    found: set[str] = set()
    for package in ("bot", "handlers", "services"):
        for _, _, message, _, _ in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def ids_in(catalog: Catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_matches_the_code(locale: str) -> None:
    in_code = ids_in_code()
    in_catalog = ids_in(load(locale))
    assert in_code - in_catalog == set(), "missing from the catalog: run make extract-messages"
    assert in_catalog - in_code == set(), "obsolete in the catalog: run make extract-messages"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated_and_not_fuzzy(locale: str) -> None:
    problems = []
    for message in load(locale):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if "fuzzy" in message.flags or not all(s and s.strip() for s in strings):
            problems.append(message.id)
        if "{" in str(message.id):
            for placeholder in ("{bot}", "{language}"):
                if placeholder in str(message.id) and not all(placeholder in s for s in strings):
                    problems.append(f"{message.id!r} loses {placeholder}")
    assert problems == []


@pytest.mark.parametrize("locale", LOCALES)
def test_plural_forms(locale: str) -> None:
    catalog = load(locale)
    assert catalog.plural_expr == PLURAL_FORMS[locale]
    assert catalog.num_plurals == (2 if locale == "en" else 3)


def test_belarusian_is_not_russian() -> None:
    be, ru = load("be"), load("ru")
    ru_strings = {m.id: m.string for m in ru if m.id}
    texts = [m.string for m in be if m.id and isinstance(m.string, str)]
    assert all(m.string != ru_strings[m.id] for m in be if m.id and m.string and len(m.id) > 12)
    joined = " ".join(texts).replace("русский", "").replace("Русский", "")  # names itself
    # Letters Belarusian has and Russian lacks, and Russian letters Belarusian never uses.
    assert "ў" in joined
    assert "і" in joined
    assert not any(letter in joined for letter in "иъщ")


def test_compiled_catalogs_are_current(tmp_path: Path) -> None:
    compile_catalogs()
    for locale in LOCALES:
        po = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
        mo = po.with_suffix(".mo")
        assert mo.exists()
        assert mo.stat().st_mtime >= po.stat().st_mtime


@pytest.mark.parametrize("locale", LOCALES)
def test_slimmed_catalogs_give_every_translation_as_before(locale: str) -> None:
    """The running bot's catalogs, without the entries that are their msgid, translate every
    message and every plural form exactly as the .po says."""
    i18n = create_i18n("en")
    for message in load(locale):
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            singular, plural = message.id
            for n in (1, 2, 5, 21):
                expected = message.string[i18n.locales[locale].plural(n)]
                assert i18n.gettext(singular, plural, n, locale=locale) == expected
        else:
            assert i18n.gettext(message.id, locale=locale) == message.string


def test_slimmed_catalogs_share_one_copy_of_each_msgid() -> None:
    i18n = create_i18n("en")
    keys = {
        locale: {key: key for key in translations._catalog if isinstance(key, str)}  # type: ignore[attr-defined]
        for locale, translations in i18n.locales.items()
    }
    shared = set(keys["be"]) & set(keys["ru"])
    assert shared
    assert all(keys["be"][key] is keys["ru"][key] for key in shared)
    # English msgids are English: only its plural forms and the few reworded texts remain.
    assert len(keys["en"]) < len(keys["ru"]) // 4
