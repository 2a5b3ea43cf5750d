"""The main menu: an inline keyboard of what the bot can do now."""

from __future__ import annotations

from typing import Literal

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.keyboards import SharedKeyboard, callback_button, shared_keyboard


class MenuCallback(CallbackData, prefix="menu"):
    action: Literal["relocate", "survey", "lang", "privacy", "help"]


# The menu is the same for everyone who reads a locale: built once per locale.
_menus: dict[str, SharedKeyboard] = {}


def main_menu_keyboard() -> SharedKeyboard:
    """The main menu in the current locale."""
    locale = get_i18n().current_locale
    menu = _menus.get(locale)
    if menu is None:
        menu = _menus[locale] = build_main_menu()
    return menu


def build_main_menu() -> SharedKeyboard:
    return shared_keyboard(
        [
            callback_button(_("🧭 Relocation guide"), MenuCallback(action="relocate")),
            callback_button(_("📋 Survey"), MenuCallback(action="survey")),
            callback_button(_("🌐 Language"), MenuCallback(action="lang")),
            callback_button(_("🔒 Privacy"), MenuCallback(action="privacy")),
            callback_button(_("❓ Help"), MenuCallback(action="help")),
        ],
        2,
        2,
        1,
    )
