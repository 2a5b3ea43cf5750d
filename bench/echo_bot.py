"""The baseline for `bench/throughput.py`: a bare aiogram bot that echoes every message.

A button press is answered and its message edited to the button's data, the least a bot can
do for a button. Reads BOT_TOKEN and TELEGRAM_API_URL from the environment; long polling with
aiogram's defaults, as Vyraj's `run` uses them.
"""

from __future__ import annotations

import asyncio
import os

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, Message


async def echo(message: Message) -> None:
    await message.answer(message.text or "?")


async def press(query: CallbackQuery) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        # The query id makes every edit differ, as Telegram refuses an edit that changes nothing.
        await query.message.edit_text(f"{query.data} {query.id}")


async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    dispatcher = Dispatcher()
    dispatcher.message.register(echo)
    dispatcher.callback_query.register(press)
    await dispatcher.start_polling(bot, polling_timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
