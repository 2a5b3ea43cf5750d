"""A button's message edited in place without reading back the edited message: the same call
as aiogram's edit, "not modified" ignored, and a message that cannot be edited sent anew."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import EditMessageText
from aiogram.types import CallbackQuery, Message

from bot.json_session import JsonBodySession
from bot.keyboards import callback_button, shared_keyboard
from bot.sandbox.runtime import local_bot_api
from bot.sandbox.server import LocalBotApi
from bot.unread import unread_class
from handlers.common.replies import edit_or_send


async def test_an_edit_in_place_is_aiograms_edit_with_its_answer_left_unread() -> None:
    api = LocalBotApi()
    user = api.add_user(2**33 + 5, "Reader", "en")
    chat = api.private_chat(user)
    keyboard = shared_keyboard([callback_button("Далей «2»", "sv:next")], 1)
    async with local_bot_api(api) as (_, url):
        session = JsonBodySession(api=TelegramAPIServer.from_base(url))
        bot = Bot(api.token, session=session, default=DefaultBotProperties(parse_mode="HTML"))
        try:
            sent = await bot.send_message(chat.id, "Question 1", reply_markup=keyboard)
            await sent.edit_text("<b>Question 1</b> & more", reply_markup=keyboard)
            by_aiogram = api.calls[-1].params
            query = press(bot, sent)
            await edit_or_send(query, "<b>Question 2</b> & more", keyboard)
            assert api.calls[-1].params == {**by_aiogram, "text": "<b>Question 2</b> & more"}
            assert api.messages[(chat.id, sent.message_id)]["text"] == "Question 2 & more"
            # The same again changes nothing: Telegram's refusal is not an error here.
            await edit_or_send(query, "<b>Question 2</b> & more", keyboard)
            assert [call.method for call in api.calls[-2:]] == ["editMessageText"] * 2
            edit = unread_class(EditMessageText)(
                chat_id=chat.id, message_id=sent.message_id, text="3"
            )
            answer: Any = await bot(edit)
            assert isinstance(answer, dict)
            assert answer["text"] == "3"
        finally:
            await bot.session.close()


async def test_a_message_that_cannot_be_edited_is_sent_anew() -> None:
    api = LocalBotApi()
    user = api.add_user(2**33 + 7, "Reader", "en")
    chat = api.private_chat(user)
    async with local_bot_api(api) as (_, url):
        session = JsonBodySession(api=TelegramAPIServer.from_base(url))
        bot = Bot(api.token, session=session)
        try:
            theirs = Message.model_validate(
                api.message_update(user, chat, {"text": "hi"})["message"], context={"bot": bot}
            )
            await edit_or_send(press(bot, theirs), "Fresh", None)
        finally:
            await bot.session.close()
    assert [call.method for call in api.calls] == ["editMessageText", "sendMessage"]
    assert api.calls[-1].params["text"] == "Fresh"


def press(bot: Bot, message: Message) -> CallbackQuery:
    assert message.from_user is not None
    return CallbackQuery(
        id="q1",
        from_user=message.from_user,
        chat_instance="c1",
        message=message,
        data="sv:next",
    ).as_(bot)
