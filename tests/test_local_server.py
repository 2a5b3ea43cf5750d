"""The local Bot API server validates like Telegram and can be told to fail."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter, TelegramServerError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.app import create_bot
from bot.sandbox.runtime import Sandbox


@pytest.fixture
async def bot_and_chat(sandbox: Sandbox):  # type: ignore[no-untyped-def]
    bot: Bot = create_bot(sandbox.settings())
    user = sandbox.user(language_code="en")
    try:
        yield bot, user.chat.id
    finally:
        await bot.session.close()


async def test_text_limits(bot_and_chat) -> None:  # type: ignore[no-untyped-def]
    bot, chat_id = bot_and_chat
    await bot.send_message(chat_id, "x" * 4096)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(chat_id, "x" * 4097)
    # Length counts the text shown, not the HTML tags.
    await bot.send_message(chat_id, "<b>" + "x" * 4096 + "</b>")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(chat_id, "<div>no</div>")
    with pytest.raises(TelegramBadRequest, match="text is empty"):
        await bot.send_message(chat_id, " ")


async def test_caption_limit(sandbox: Sandbox, bot_and_chat) -> None:  # type: ignore[no-untyped-def]
    from aiogram.types import BufferedInputFile

    bot, chat_id = bot_and_chat
    photo = BufferedInputFile(b"\x89PNG fake", filename="chart.png")
    message = await bot.send_photo(chat_id, photo, caption="ok")
    assert message.photo is not None
    assert sandbox.api.files[message.photo[0].file_id] == b"\x89PNG fake"
    with pytest.raises(TelegramBadRequest, match="caption is too long"):
        await bot.send_photo(chat_id, photo, caption="x" * 1025)


async def test_callback_data_limit_and_not_modified(bot_and_chat) -> None:  # type: ignore[no-untyped-def]
    bot, chat_id = bot_and_chat
    too_long = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="b", callback_data="x" * 65)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(chat_id, "hi", reply_markup=too_long)
    message = await bot.send_message(chat_id, "hi")
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("hi", chat_id=chat_id, message_id=message.message_id)
    await bot.edit_message_text("hello", chat_id=chat_id, message_id=message.message_id)


async def test_injected_failures(sandbox: Sandbox, bot_and_chat) -> None:  # type: ignore[no-untyped-def]
    bot, chat_id = bot_and_chat
    sandbox.api.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(chat_id, "a")
    assert caught.value.retry_after == 3
    sandbox.api.fail_next("sendMessage", status=502)
    with pytest.raises(TelegramServerError):
        await bot.send_message(chat_id, "b")
    await bot.send_message(chat_id, "c")
    statuses = [call.status for call in sandbox.api.calls if call.method == "sendMessage"]
    assert statuses == [429, 502, 200]


async def test_unknown_chat_and_blocked_user(sandbox: Sandbox, bot_and_chat) -> None:  # type: ignore[no-untyped-def]
    from aiogram.exceptions import TelegramForbiddenError

    bot, chat_id = bot_and_chat
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(123, "nobody")
    sandbox.api.users[chat_id].blocked_bot = True
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(chat_id, "blocked")


async def test_polls_and_chat_members(sandbox: Sandbox, bot_and_chat) -> None:  # type: ignore[no-untyped-def]
    bot, _ = bot_and_chat
    owner = sandbox.user(language_code="en")
    group = await sandbox.group("G", added_by=owner)
    member = await bot.get_chat_member(group.id, owner.user.id)
    assert member.status == "creator"
    admins = await bot.get_chat_administrators(group.id)
    assert [a.user.id for a in admins] == [owner.user.id]
    message = await bot.send_poll(group.id, "Where do you live?", ["Poland", "Georgia"])
    assert message.poll is not None
    assert message.poll.is_anonymous
    poll = await bot.stop_poll(group.id, message.message_id)
    assert poll.is_closed
    with pytest.raises(TelegramBadRequest, match="already been closed"):
        await bot.stop_poll(group.id, message.message_id)


async def test_wrong_token_is_unauthorized(sandbox: Sandbox) -> None:
    from aiogram.exceptions import TelegramUnauthorizedError

    bot = create_bot(sandbox.settings(bot_token="1:wrong"))
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await bot.get_me()
    finally:
        await bot.session.close()
