"""The main menu: an inline keyboard of what the bot can do now."""

from __future__ import annotations

from typing import Literal

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder


class MenuCallback(CallbackData, prefix="menu"):
    action: Literal["relocate", "survey", "lang", "privacy", "help"]


def main_menu_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🧭 Relocation guide"), callback_data=MenuCallback(action="relocate"))
    builder.button(text=_("📋 Survey"), callback_data=MenuCallback(action="survey"))
    builder.button(text=_("🌐 Language"), callback_data=MenuCallback(action="lang"))
    builder.button(text=_("🔒 Privacy"), callback_data=MenuCallback(action="privacy"))
    builder.button(text=_("❓ Help"), callback_data=MenuCallback(action="help"))
    builder.adjust(2, 2, 1)
    return builder.as_markup()
