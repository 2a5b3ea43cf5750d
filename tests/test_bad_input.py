"""Bad input never crashes the bot: a polite answer or silence, and it keeps serving."""

from __future__ import annotations

import pytest

from bot.sandbox.driver import buttons_of
from bot.sandbox.runtime import Sandbox


async def test_unknown_command_gets_a_polite_answer(running: Sandbox) -> None:
    user = running.user(language_code="en")
    await user.send("/definitely_not_a_command")
    assert "don't know this command" in user.last_text


@pytest.mark.parametrize(
    "payload",
    [
        {
            "sticker": {
                "file_id": "s1",
                "file_unique_id": "s1",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            }
        },
        {"photo": [{"file_id": "p1", "file_unique_id": "p1", "width": 90, "height": 90}]},
        {"voice": {"file_id": "v1", "file_unique_id": "v1", "duration": 3}},
    ],
)
async def test_non_text_messages_get_a_polite_answer(running: Sandbox, payload: dict) -> None:
    user = running.user(language_code="ru")
    await user.send_payload(payload)
    assert "только текстовые сообщения" in user.last_text


@pytest.mark.parametrize(
    "text",
    [
        "x" * 4096,
        "\u200b\u200b\u200b",
        "\u202eשלום עולם\u202c",
        '<b>not html</b> & "quotes" \' ; DROP TABLE preferences; --',
        "🙂🙂🙂",
    ],
)
async def test_odd_text_gets_an_answer_and_the_bot_keeps_serving(
    running: Sandbox, text: str
) -> None:
    user = running.user(language_code="en")
    replies = await user.send(text)
    assert len(replies) == 1
    await user.send("/start")
    assert "Hello! I am Vyraj" in user.last_text


async def test_edited_messages_are_ignored(running: Sandbox) -> None:
    user = running.user(language_code="en")
    assert await user.send_payload({"text": "/start"}, kind="edited_message") == []


async def test_messages_from_bots_are_ignored(running: Sandbox) -> None:
    other_bot = running.user("SpamBot", language_code="en")
    other_bot.user.is_bot = True
    assert await other_bot.send("/start") == []


async def test_channel_posts_are_ignored(running: Sandbox) -> None:
    owner = running.user(language_code="en")
    channel = await running.group("Digest", added_by=owner, kind="channel")
    replies = await owner.in_chat(channel).send_payload({"text": "/start"}, kind="channel_post")
    assert replies == []


@pytest.mark.parametrize("data", ["lang:xx", "menu:drop_tables", "garbage", "lang", "x" * 64])
async def test_forged_callback_data_is_refused_politely(running: Sandbox, data: str) -> None:
    user = running.user(language_code="en")
    await user.send("/start")
    menu = user.last_message
    assert menu is not None
    await user.press(menu, data)
    assert user.last_answer is not None
    assert "no longer valid" in user.last_answer
    assert (
        await running.bot.vyraj.storage.preferences.get_locale(  # type: ignore[union-attr]
            running.bot.vyraj.keyring.user_pseudonym(user.user.id)  # type: ignore[union-attr]
        )
        is None
    )


async def test_a_button_pressed_twice_is_harmless(running: Sandbox) -> None:
    user = running.user(language_code="en")
    await user.send("/lang")
    message = user.last_message
    assert message is not None
    english = next(b for b in buttons_of(message) if b.text == "English")
    assert english.callback_data is not None
    await user.press(message, english.callback_data)
    await user.press(message, english.callback_data)  # the same edit again: "not modified"
    assert "from now on I speak English" in user.last_text
    failed = [call.method for call in running.api.calls if call.status != 200]
    assert failed == ["editMessageText"]  # "message is not modified", handled quietly
    answered = [c for c in running.api.calls if c.method == "answerCallbackQuery"]
    assert len(answered) == 2
