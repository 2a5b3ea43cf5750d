"""A reply whose answer nobody reads: the same call as aiogram's shortcut, the answer left as
plain JSON, and Telegram's errors raised as ever."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import Message, ReplyParameters

from bot.json_session import JsonBodySession
from bot.keyboards import callback_button, inline_keyboard, shared_keyboard
from bot.sandbox.runtime import local_bot_api
from bot.sandbox.server import LocalBotApi
from bot.unread import call_unread


async def test_an_unread_reply_is_aiograms_call_and_still_raises_telegrams_errors() -> None:
    api = LocalBotApi()
    user = api.add_user(2**33 + 5, "Reader", "en")
    chat = api.private_chat(user)
    async with local_bot_api(api) as (_, url):
        session = JsonBodySession(api=TelegramAPIServer.from_base(url))
        bot = Bot(api.token, session=session, default=DefaultBotProperties(parse_mode="HTML"))
        try:
            question = Message.model_validate(
                api.message_update(user, chat, {"text": "karta pobytu?"})["message"],
                context={"bot": bot},
            )
            for keyboard in (
                inline_keyboard([callback_button("Далей «2»", "g:next")]),
                shared_keyboard([callback_button("Back", "g:back")], 1),
            ):
                text = "<b>Karta pobytu</b> & more"
                await question.reply(text, reply_markup=keyboard)
                by_aiogram = api.calls[-1]
                await call_unread(question.reply(text, reply_markup=keyboard))
                assert api.calls[-1].method == by_aiogram.method == "sendMessage"
                assert api.calls[-1].params == by_aiogram.params
            quoted = ReplyParameters(message_id=question.message_id, quote="karta")
            await question.answer("Quoted", reply_parameters=quoted)
            by_aiogram = api.calls[-1]
            await call_unread(question.answer("Quoted", reply_parameters=quoted))
            assert api.calls[-1].params == by_aiogram.params

            user.blocked_bot = True
            with pytest.raises(TelegramForbiddenError, match="blocked"):
                await call_unread(question.answer("Anyone there?"))
            elsewhere = question.model_copy(
                update={"chat": question.chat.model_copy(update={"id": 7})}
            )
            with pytest.raises(TelegramBadRequest, match="chat not found"):
                await call_unread(elsewhere.answer("Anyone there?"))
        finally:
            await bot.session.close()
