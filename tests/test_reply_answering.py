"""A bare /ask or @bot in reply to someone else's message answers that message's question,
under it and quoting it, in the same forum topic."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sandbox.driver import TelegramUser
from bot.sandbox.runtime import Sandbox
from handlers.guide.ask import QUOTE_MAX, quote_excerpt

PHOTO = {"photo": [{"file_id": "p1", "file_unique_id": "p1", "width": 90, "height": 90}]}
STICKER = {
    "sticker": {
        "file_id": "s1",
        "file_unique_id": "s1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
}


async def newcomer_and_helper(box: Sandbox) -> tuple[TelegramUser, TelegramUser]:
    """Two people in one group: a newcomer who asks, a helper who replies."""
    helper = box.user("Helper", language_code="be")
    group = await box.group("Belarusians in Warsaw", added_by=helper)
    newcomer = box.user("Newcomer", language_code="ru").in_chat(group)
    return newcomer, helper.in_chat(group)


async def ask_in_group(newcomer: TelegramUser, payload: dict[str, Any]) -> dict[str, Any]:
    """The newcomer writes to the group (the bot stays out of it); their message."""
    assert await newcomer.send_payload(payload) == []
    assert newcomer.last_sent is not None
    return newcomer.last_sent


@pytest.mark.parametrize("command", ["/ask", "/ask@vyraj_bot", "@vyraj_bot", "@Vyraj_Bot "])
async def test_a_bare_ask_in_reply_answers_the_replied_to_question(
    running: Sandbox, command: str
) -> None:
    newcomer, helper = await newcomer_and_helper(running)
    question = await ask_in_group(newcomer, {"text": "Как получить карту побыту через MOS?"})

    replies = await helper.send(command, reply_to=question)

    assert len(replies) == 1
    answer = replies[0]
    assert answer["reply_to_message"]["message_id"] == question["message_id"]
    assert answer["quote"] == {"text": "Как получить карту побыту через MOS?", "position": 0}
    assert "Крыніцы:" in answer["text"]  # the helper's language: they asked the bot
    assert "karta pobytu" in answer["text"].casefold()


async def test_a_long_question_is_quoted_by_its_first_words(running: Sandbox) -> None:
    newcomer, helper = await newcomer_and_helper(running)
    text = "Здравствуйте всем! " * 8 + "\nКак получить карту побыту через портал MOS онлайн?"
    question = await ask_in_group(newcomer, {"text": text})

    replies = await helper.send("/ask", reply_to=question)

    quote = replies[0]["quote"]["text"]
    assert text.startswith(quote)
    assert len(quote) <= QUOTE_MAX
    assert replies[0]["reply_to_message"]["message_id"] == question["message_id"]


async def test_a_caption_is_a_question_too(running: Sandbox) -> None:
    newcomer, helper = await newcomer_and_helper(running)
    question = await ask_in_group(newcomer, {**PHOTO, "caption": "что это за карта побыту?"})

    replies = await helper.send("/ask", reply_to=question)

    assert replies[0]["reply_to_message"]["message_id"] == question["message_id"]
    assert replies[0]["quote"]["text"] == "что это за карта побыту?"


@pytest.mark.parametrize("payload", [PHOTO, STICKER], ids=["photo", "sticker"])
async def test_a_message_without_text_gets_a_polite_word_to_the_helper(
    running: Sandbox, payload: dict[str, Any]
) -> None:
    newcomer, helper = await newcomer_and_helper(running)
    question = await ask_in_group(newcomer, payload)

    replies = await helper.send("/ask", reply_to=question)

    assert len(replies) == 1
    assert "няма тэксту" in replies[0]["text"]
    assert helper.last_sent is not None
    assert replies[0]["reply_to_message"]["message_id"] == helper.last_sent["message_id"]


async def test_the_answer_lands_in_the_same_forum_topic(running: Sandbox) -> None:
    helper = running.user("Helper", language_code="be")
    forum = await running.group("Belarusians in Warsaw", added_by=helper, forum=True)
    topic = running.api.create_topic(forum, "Documents")
    newcomer = running.user("Newcomer", language_code="ru").in_chat(forum).in_topic(topic)
    helper = helper.in_chat(forum).in_topic(topic)
    # Telegram makes every message in a topic a reply to the topic's first (service) message.
    root = {
        "message_id": topic,
        "date": 0,
        "chat": forum.as_dict(),
        "from": newcomer.user.as_dict(),
        "message_thread_id": topic,
        "forum_topic_created": {"name": "Documents", "icon_color": 7322096},
    }
    asked = await ask_in_group(newcomer, {"text": "карта побыту онлайн MOS?"})

    replies = await helper.send_payload({"text": "/ask"}, reply_to=asked)

    assert replies[0]["message_thread_id"] == topic
    assert replies[0]["reply_to_message"]["message_id"] == asked["message_id"]
    # A bare mention in the topic replies only to the topic's root: no question to answer.
    replies = await helper.send_payload({"text": "@vyraj_bot"}, reply_to=root)
    assert "@vyraj_bot karta pobytu" in replies[0]["text"]
    assert replies[0]["message_thread_id"] == topic


async def test_not_found_and_choices_go_under_the_question_too(running: Sandbox) -> None:
    newcomer, helper = await newcomer_and_helper(running)
    question = await ask_in_group(newcomer, {"text": "how do I bake sourdough bread"})

    replies = await helper.send("@vyraj_bot", reply_to=question)

    assert "няма адказу" in replies[0]["text"]
    assert replies[0]["reply_to_message"]["message_id"] == question["message_id"]


async def test_a_reply_to_the_bot_keeps_todays_behaviour(running: Sandbox) -> None:
    newcomer, helper = await newcomer_and_helper(running)
    await helper.send("@vyraj_bot карта побыту ў Польшчы")
    answer = helper.last_message
    assert answer is not None

    await helper.send("/ask", reply_to=answer)
    assert "/ask karta pobytu" in helper.last_text  # asks for the question, as before
    await helper.send("@vyraj_bot", reply_to=answer)
    assert "@vyraj_bot karta pobytu" in helper.last_text
    # Words after /ask are the helper's own question, answered to the helper.
    question = await ask_in_group(newcomer, {"text": "всем привет"})
    replies = await helper.send("/ask карта побыту MOS", reply_to=question)
    assert helper.last_sent is not None
    assert replies[0]["reply_to_message"]["message_id"] == helper.last_sent["message_id"]


async def test_in_a_private_chat_ask_answers_an_earlier_message(running: Sandbox) -> None:
    user = running.user(language_code="en")
    await user.send("karta pobytu MOS portal online")
    earlier = user.last_sent
    assert earlier is not None

    replies = await user.send("/ask", reply_to=earlier)

    assert replies[0]["reply_to_message"]["message_id"] == earlier["message_id"]
    assert "Sources:" in replies[0]["text"]


@given(st.text(max_size=400))
def test_the_excerpt_is_a_short_part_of_the_question(text: str) -> None:
    excerpt = quote_excerpt(text)
    assert excerpt in text
    assert len(excerpt) <= QUOTE_MAX
    assert excerpt == excerpt.strip()
