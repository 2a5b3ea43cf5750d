"""Keyboards built in one pass lay buttons out as aiogram's builder does; cached ones are per
locale and hold nothing of the person they were first built for."""

from __future__ import annotations

import json

import pytest
from aiogram import Bot
from aiogram.methods import EditMessageText
from aiogram.types import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import create_i18n
from bot.json_session import JsonBodySession
from bot.keyboards import (
    SharedKeyboard,
    callback_button,
    inline_keyboard,
    shared_keyboard,
    url_button,
)
from handlers.common.menu import MenuCallback, main_menu_keyboard
from handlers.survey.views import country_pages, question_view
from services.survey.labels import option_label, question_short, question_text
from services.survey.questions import Answer


def numbered(count: int) -> list[InlineKeyboardButton]:
    return [callback_button(str(n), f"b:{n}") for n in range(count)]


@pytest.mark.parametrize(
    ("count", "widths"),
    [(0, (1,)), (1, (2,)), (5, (2, 2, 1)), (7, (2,)), (9, ()), (12, (3, 1)), (40, (2, 1, 3))],
)
def test_rows_match_aiogram_builder_adjust(count: int, widths: tuple[int, ...]) -> None:
    builder = InlineKeyboardBuilder()
    for button in numbered(count):
        builder.add(button)
    builder.adjust(*widths)
    assert inline_keyboard(numbered(count), *widths) == builder.as_markup()


@pytest.mark.parametrize("width", [0, 9, -1])
def test_a_row_width_telegram_refuses_is_an_error(width: int) -> None:
    with pytest.raises(ValueError, match="row width"):
        inline_keyboard(numbered(3), width)


def test_more_buttons_than_telegram_allows_is_an_error() -> None:
    with pytest.raises(ValueError, match="at most 100"):
        inline_keyboard(numbered(101), 1)


def test_typed_callback_data_is_packed_and_links_are_links() -> None:
    assert callback_button("Help", MenuCallback(action="help")).callback_data == "menu:help"
    link = url_button("Open", "https://t.me/vyraj_bot?start=survey")
    assert link.url == "https://t.me/vyraj_bot?start=survey"
    assert link.callback_data is None


def test_the_main_menu_is_built_once_per_locale_in_that_locale() -> None:
    i18n = create_i18n("en")
    with i18n.context():
        with i18n.use_locale("en"):
            english = main_menu_keyboard()
            assert main_menu_keyboard() is english
        with i18n.use_locale("be"):
            belarusian = main_menu_keyboard()
    english_texts = [button.text for row in english.inline_keyboard for button in row]
    belarusian_texts = [button.text for row in belarusian.inline_keyboard for button in row]
    assert "❓ Help" in english_texts
    assert "❓ Help" not in belarusian_texts
    data = [button.callback_data for row in english.inline_keyboard for button in row]
    # Only the menu's own actions: nothing of whoever first asked for it.
    assert data == [
        "menu:relocate",
        "menu:survey",
        "menu:lang",
        "menu:privacy",
        "menu:help",
    ]
    assert [len(row) for row in english.inline_keyboard] == [2, 2, 1]


def test_country_pages_are_sorted_per_locale_and_kept() -> None:
    english, russian = country_pages("en"), country_pages("ru")
    assert country_pages("en") is english
    assert sorted(c for page in english for c in page) == sorted(
        c for page in russian for c in page
    )
    assert english != russian  # the order follows each language's names


def test_option_labels_are_kept_per_locale() -> None:
    i18n = create_i18n("en")
    with i18n.context():
        with i18n.use_locale("en"):
            english = option_label("seniority", "lead")
        with i18n.use_locale("be"):
            belarusian = option_label("seniority", "lead")
        with i18n.use_locale("en"):
            assert option_label("seniority", "lead") == english == "Lead / principal"
    assert belarusian != english


def test_a_question_keyboard_with_nothing_picked_is_built_once_per_locale() -> None:
    i18n = create_i18n("en")
    answers: dict[str, Answer] = {"status": "left_after"}
    with i18n.context():
        with i18n.use_locale("en"):
            _, english = question_view(7, answers, "year_left", 2026)
            _, again = question_view(7, answers, "year_left", 2026)
        with i18n.use_locale("be"):
            _, belarusian = question_view(7, answers, "year_left", 2026)
    assert again is english
    assert belarusian is not english
    assert "Skip (prefer not to say)" in button_texts(english)
    assert "Skip (prefer not to say)" not in button_texts(belarusian)


def test_a_shared_keyboard_goes_out_as_aiogram_prepares_the_same_keyboard() -> None:
    buttons = [
        *numbered(5),
        url_button("Read «more»", "https://example.org/?a=1&b=2"),
        InlineKeyboardButton(text="Copy", copy_text=CopyTextButton(text="Karta pobytu")),
        InlineKeyboardButton(text="App", web_app=WebAppInfo(url="https://example.org/app")),
        InlineKeyboardButton(text="Pay", pay=False),
    ]
    shared = shared_keyboard(buttons, 2, 1)
    plain = inline_keyboard(buttons, 2, 1)
    assert not isinstance(plain, SharedKeyboard)
    session, bot = JsonBodySession(), Bot("42:sandbox")
    bodies = [
        session.json_body(bot, EditMessageText(chat_id=5, message_id=9, text="x", reply_markup=kb))
        for kb in (shared, plain)
    ]
    assert bodies[0] is not None
    assert bodies[1] is not None
    assert json.loads(bodies[0]) == json.loads(bodies[1])
    assert json.loads(bodies[0])["reply_markup"]["inline_keyboard"][4][0] == {
        "text": "Read «more»",
        "url": "https://example.org/?a=1&b=2",
    }


def test_everyones_question_keyboard_is_prepared_once_and_one_with_picks_is_not() -> None:
    i18n = create_i18n("en")
    with i18n.context(), i18n.use_locale("en"):
        _, everyones = question_view(7, {"status": "left_after"}, "country", 2026)
        _, picked = question_view(7, {"status": "planning"}, "reasons", 2026, picked=("safety",))
    assert isinstance(everyones, SharedKeyboard)
    assert everyones.wire_form() is everyones.wire_form()
    assert not isinstance(picked, SharedKeyboard)


def test_question_words_are_translated_once_per_locale_and_follow_it() -> None:
    i18n = create_i18n("en")
    with i18n.context():
        with i18n.use_locale("be"):
            belarusian = question_text("country"), question_short("country")
        with i18n.use_locale("en"):
            english = question_text("country"), question_short("country")
        with i18n.use_locale("be"):
            assert (question_text("country"), question_short("country")) == belarusian
            assert question_text("unknown") == "unknown"
    assert english == ("Which country do you live in now?", "Country now")
    assert belarusian[0] != english[0]
    assert belarusian[1] != english[1]


def test_a_keyboard_with_picks_is_not_kept() -> None:
    i18n = create_i18n("en")
    with i18n.context(), i18n.use_locale("en"):
        _, first = question_view(7, {"status": "planning"}, "reasons", 2026, picked=("safety",))
        _, second = question_view(7, {"status": "planning"}, "reasons", 2026, picked=("safety",))
        _, none_picked = question_view(7, {"status": "planning"}, "reasons", 2026)
    assert first == second
    assert first is not second
    assert "✅" in " ".join(button_texts(first))
    assert "✅" not in " ".join(button_texts(none_picked))


def button_texts(keyboard: InlineKeyboardMarkup) -> list[str]:
    return [button.text for row in keyboard.inline_keyboard for button in row]
