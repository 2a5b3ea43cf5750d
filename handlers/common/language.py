"""/lang: choose the interface language; the choice is kept under the person's pseudonym."""

from __future__ import annotations

from typing import Literal

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.keyboards import callback_button, inline_keyboard
from handlers.common.menu import MenuCallback, main_menu_keyboard
from handlers.common.replies import edit_or_send
from services.privacy import Keyring
from storage import Storage

# Each language is named in itself, so anyone can find their own.
LANGUAGE_NAMES = {"be": "Беларуская", "ru": "Русский", "en": "English"}


class LanguageCallback(CallbackData, prefix="lang"):
    code: Literal["be", "ru", "en"]


def language_keyboard() -> InlineKeyboardMarkup:
    return inline_keyboard(
        [
            callback_button(name, LanguageCallback(code=code))
            for code, name in LANGUAGE_NAMES.items()
        ],
        3,
    )


def choose_language_text() -> str:
    return _("Choose the language:")


async def ask_language(message: Message) -> None:
    await message.answer(choose_language_text(), reply_markup=language_keyboard())


async def ask_language_from_menu(query: CallbackQuery) -> None:
    await edit_or_send(query, choose_language_text(), language_keyboard())


async def set_language(
    query: CallbackQuery,
    callback_data: LanguageCallback,
    storage: Storage,
    keyring: Keyring,
    i18n: I18n,
) -> None:
    async with storage.transaction() as tx:
        await tx.preferences.set_locale(
            keyring.user_pseudonym(query.from_user.id), callback_data.code
        )
    with i18n.use_locale(callback_data.code):
        await edit_or_send(
            query,
            _("Done: from now on I speak {language}.").format(
                language=LANGUAGE_NAMES[callback_data.code]
            ),
            main_menu_keyboard(),
        )


def create_router() -> Router:
    router = Router(name="language")
    router.message.register(ask_language, Command("lang"))
    router.callback_query.register(ask_language_from_menu, MenuCallback.filter(F.action == "lang"))
    router.callback_query.register(set_language, LanguageCallback.filter())
    return router
