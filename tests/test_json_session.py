"""File-less Bot API calls go as one JSON body holding what aiogram's form would; calls with
files still go as aiogram's multipart form."""

from __future__ import annotations

import json
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import SendMessage
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import create_i18n
from bot.json_session import JsonBodySession
from bot.keyboards import SharedKeyboard
from bot.sandbox.runtime import local_bot_api
from bot.sandbox.server import LocalBotApi
from handlers.common.menu import main_menu_keyboard


def as_sent(value: Any) -> str:
    """A scalar as a form carries it: JSON's false and 7 are the form's "false" and "7"."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def without_file_parts(params: dict[str, Any]) -> dict[str, Any]:
    """The document and its file name as the server resolved them, without the part's name."""
    attached = {key for key, value in params.items() if isinstance(value, bytes)} - {"document"}
    return {
        key: value
        for key, value in params.items()
        if key not in attached and key.removeprefix("_filename:") not in attached
    }


async def calls_made(session: AiohttpSession) -> list[tuple[str, dict[str, Any]]]:
    api = LocalBotApi()
    user = api.add_user(2**33 + 5, "Reader", "en")
    chat = api.private_chat(user)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Паехалі «туды»", callback_data="kb:x")]]
    )
    async with local_bot_api(api) as (_, url):
        session.api = TelegramAPIServer.from_base(url)
        bot = Bot(api.token, session=session, default=DefaultBotProperties(parse_mode="HTML"))
        try:
            sent = await bot.send_message(
                chat.id, "<b>Karta</b> pobytu & ВНЖ", reply_markup=markup, protect_content=False
            )
            await bot.send_poll(chat.id, "Where?", ["Here", "There"], is_anonymous=False)
            await bot.send_document(chat.id, BufferedInputFile(b"figures", "figures.csv"))
        finally:
            await bot.session.close()
    assert sent.text == "Karta pobytu & ВНЖ"
    return [(call.method, call.params) for call in api.calls]


async def test_json_bodies_hold_what_aiograms_form_holds() -> None:
    by_form = await calls_made(AiohttpSession())
    by_json = await calls_made(JsonBodySession())
    assert [method for method, _ in by_json] == [method for method, _ in by_form]
    for (method, form), (_, body) in zip(by_form, by_json, strict=True):
        if method == "sendDocument":  # the file's part has a random name in each
            form, body = without_file_parts(form), without_file_parts(body)
        assert form.keys() == body.keys(), method
        for key, value in form.items():
            if isinstance(value, (dict, list)):  # decoded by the server from the form's JSON
                assert body[key] == value, (method, key)
            else:
                assert as_sent(body[key]) == as_sent(value), (method, key)
    poll = dict(by_json)["sendPoll"]
    assert poll["is_anonymous"] is False  # sent, not left out as a falsy value
    document = dict(by_json)["sendDocument"]
    assert document["_filename:document"] == "figures.csv"  # the file went as multipart


def test_the_main_menu_is_prepared_once_per_locale_and_goes_as_any_other_keyboard() -> None:
    i18n = create_i18n("en")
    with i18n.context():
        with i18n.use_locale("en"):
            english = main_menu_keyboard()
        with i18n.use_locale("be"):
            belarusian = main_menu_keyboard()
            again = main_menu_keyboard()
    assert isinstance(english, SharedKeyboard)
    assert belarusian is again
    assert english.wire_form() != belarusian.wire_form()
    session, bot = JsonBodySession(), Bot("42:TEST")
    plain_markup = InlineKeyboardMarkup(inline_keyboard=belarusian.inline_keyboard)
    body = session.json_body(bot, SendMessage(chat_id=7, text="Hi", reply_markup=belarusian))
    plain = session.json_body(bot, SendMessage(chat_id=7, text="Hi", reply_markup=plain_markup))
    assert body is not None
    assert plain is not None
    assert json.loads(body) == json.loads(plain)
