"""gettext catalogs (Babel) and the choice of locale for each update."""

from __future__ import annotations

import os
from gettext import GNUTranslations
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from bot.package_data import package_folder
from bot.settings import LOCALES
from services.privacy import Keyring
from storage import PreferencesReader

LOCALES_DIR = package_folder("bot.locales")
DOMAIN = "messages"


def compile_catalogs(locales_dir: Path = LOCALES_DIR) -> list[Path]:
    """Compile every `.po` whose `.mo` is missing or older; return the files written."""
    written = []
    for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and (
            mo_path.stat().st_mtime >= po_path.stat().st_mtime
            # An installed package's catalogs were compiled when it was built; maybe read-only.
            or not os.access(mo_path, os.W_OK)
        ):
            continue
        # Imported only to compile: a running bot whose catalogs are compiled never needs them.
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        written.append(mo_path)
    return written


def create_i18n(default_locale: str, locales_dir: Path = LOCALES_DIR) -> I18n:
    compile_catalogs(locales_dir)
    i18n = I18n(path=locales_dir, default_locale=default_locale, domain=DOMAIN)
    shared_ids: dict[str, str] = {}
    for translations in i18n.locales.values():
        slim_catalog(translations, shared_ids)
    return i18n


def slim_catalog(translations: GNUTranslations, shared_ids: dict[str, str]) -> None:
    """Drop the translations that are their msgid (gettext gives the msgid itself for those)
    and key the rest by the msgids in `shared_ids`: one copy for every catalog (~0.2 MiB)."""
    catalog: dict[str | tuple[str, int], str] = translations._catalog  # type: ignore[attr-defined]
    slim: dict[str | tuple[str, int], str] = {}
    for key, text in catalog.items():
        if isinstance(key, tuple):
            msgid, form = key
            slim[shared_ids.setdefault(msgid, msgid), form] = text
        elif key != text:
            slim[shared_ids.setdefault(key, key)] = text
    translations._catalog = slim  # type: ignore[attr-defined]


def locale_from_language_code(language_code: str | None) -> str | None:
    """Telegram's `language_code` ("be", "ru-RU", "en-GB") to one of ours, if we have it."""
    if not language_code:
        return None
    code = language_code.split("-")[0].split("_")[0].lower()
    return code if code in LOCALES else None


class PreferredLocaleMiddleware(I18nMiddleware):
    """Locale: the person's saved choice, else Telegram's language, else DEFAULT_LOCALE."""

    def __init__(self, i18n: I18n, preferences: PreferencesReader, keyring: Keyring) -> None:
        super().__init__(i18n=i18n)
        self._preferences = preferences
        self._keyring = keyring

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        if user is None or user.is_bot:
            return self.i18n.default_locale
        saved = await self._preferences.get_locale(self._keyring.user_pseudonym(user.id))
        if saved in LOCALES:
            return saved
        return locale_from_language_code(user.language_code) or self.i18n.default_locale
