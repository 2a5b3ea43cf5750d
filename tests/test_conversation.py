"""End to end: the real aiogram Bot over HTTP against the local Bot API server."""

from __future__ import annotations

import re

import pytest

from bot.sandbox.runtime import Sandbox

WELCOME = {
    "be": "Вітаю! Я Vyraj",
    "ru": "Привет! Я Vyraj",
    "en": "Hello! I am Vyraj",
}


@pytest.mark.parametrize("language_code", ["be", "ru", "en"])
async def test_start_answers_in_the_telegram_language(
    running: Sandbox, language_code: str
) -> None:
    user = running.user(language_code=language_code)
    await user.send("/start")
    assert WELCOME[language_code] in user.last_text
    assert len(user.last_buttons) == 5  # guide, survey, language, privacy, help


@pytest.mark.parametrize("language_code", [None, "de", "pt-br"])
async def test_unknown_or_missing_language_falls_back_to_default(
    running: Sandbox, language_code: str | None
) -> None:
    user = running.user(language_code=language_code)
    await user.send("/start")
    assert WELCOME["be"] in user.last_text  # DEFAULT_LOCALE is be in the sandbox


async def test_language_choice_survives_a_restart(running: Sandbox) -> None:
    user = running.user(language_code="en")
    await user.send("/lang")
    await user.click("Русский")
    assert "Готово" in user.last_text
    await running.stop_bot()
    await running.start_bot()
    await user.send("/start")
    assert WELCOME["ru"] in user.last_text


async def test_menu_buttons_edit_the_same_message(running: Sandbox) -> None:
    user = running.user(language_code="en")
    await user.send("/start")
    menu = user.last_message
    assert menu is not None
    await user.click("Privacy")
    assert user.last_message is not None
    assert user.last_message["message_id"] == menu["message_id"]
    assert "What I never store" in user.last_text
    await user.click("Help")
    assert "/lang" in user.last_text


async def test_help_names_the_bot_for_groups(running: Sandbox) -> None:
    user = running.user(language_code="en")
    await user.send("/help")
    assert "/help@vyraj_bot" in user.last_text


async def test_commands_are_published_in_every_language(running: Sandbox) -> None:
    languages = {language for (_, language) in running.api.commands}
    assert languages == {"", "be", "ru", "en"}
    be_commands = next(v for (_, lang), v in running.api.commands.items() if lang == "be")
    assert {c["command"] for c in be_commands} == {
        "start",
        "relocate",
        "ask",
        "survey",
        "stats",
        "notify",
        "forget",
        "help",
        "lang",
        "privacy",
        "cancel",
    }
    assert any(c["description"] == "Змяніць мову" for c in be_commands)


async def test_cancel_with_nothing_to_cancel(running: Sandbox) -> None:
    user = running.user(language_code="en")
    await user.send("/cancel")
    assert "nothing to cancel" in user.last_text


async def test_privacy_explains_what_a_copied_database_reveals(running: Sandbox) -> None:
    user = running.user(language_code="be")
    await user.send("/privacy")
    assert "скапіюе базу" in user.last_text
    assert "толькі яго пошукавыя словы" in user.last_text  # what is kept of a question


async def test_group_answers_commands_addressed_to_it_and_ignores_chatter(
    running: Sandbox,
) -> None:
    admin = running.user(language_code="en")
    group = await running.group("Belarusians in Warsaw", added_by=admin)
    in_group = admin.in_chat(group)
    assert await in_group.send("hello everyone, any news about karta pobytu?") == []
    assert await in_group.send("/unknown") == []
    assert await in_group.send("/start@other_bot") == []
    replies = await in_group.send("/help@vyraj_bot")
    assert len(replies) == 1
    assert "What I understand" in in_group.last_text
    replies = await in_group.send("/whatever@vyraj_bot")
    assert "don't know this command" in in_group.last_text


async def test_browse_countries_topics_article_and_back(running: Sandbox) -> None:
    user = running.user(language_code="en")
    await user.send("/start")
    menu = user.last_message
    assert menu is not None
    await user.click("Relocation guide")
    assert "Choose a country" in user.last_text
    await user.click("Poland")
    assert "Poland: choose a topic" in user.last_text
    await user.click("Poland Business Harbour")
    text = user.last_text
    assert "PBH" in text
    assert "Sources:" in text
    assert re.search(r"Checked on \d{4}-\d{2}-\d{2}", text)
    assert user.last_message is not None
    assert user.last_message["message_id"] == menu["message_id"]  # one message, edited
    await user.click("Back")
    assert "Poland: choose a topic" in user.last_text
    await user.click("Back")
    assert "Choose a country" in user.last_text


async def test_articles_come_in_the_users_language(running: Sandbox) -> None:
    user = running.user(language_code="be")
    await user.send("/relocate")
    await user.click("Грузія")
    assert "Грузія: выберыце тэму" in user.last_text
    await user.click(1)
    assert "Крыніцы:" in user.last_text
    assert re.search(r"Праверана \d{4}-\d{2}-\d{2}", user.last_text)


@pytest.mark.parametrize("data", ["kb:article:xx-nothing", "kb:country:fr", "kb:country:"])
async def test_forged_browse_buttons_are_refused(running: Sandbox, data: str) -> None:
    user = running.user(language_code="en")
    await user.send("/relocate")
    message = user.last_message
    assert message is not None
    before = user.last_text
    await user.press(message, data)
    assert user.last_answer is not None
    assert "no longer valid" in user.last_answer
    assert user.last_text == before
