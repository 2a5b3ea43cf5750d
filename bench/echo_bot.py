"""The baseline for `bench/throughput.py`: a bare aiogram bot that echoes every message.

A button press is answered and its message edited to the button's data, the least a bot can
do for a button. Reads BOT_TOKEN and TELEGRAM_API_URL from the environment; long polling with
aiogram's defaults, as Vyraj's `run` uses them, or with WEBHOOK_URL, WEBHOOK_LISTEN and
WEBHOOK_SECRET set, aiogram's webhook handler (handling in the background, as Vyraj's does).
"""

from __future__ import annotations

import asyncio
import os
import signal

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web


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
    if "WEBHOOK_URL" in os.environ:
        await serve_webhook(bot, dispatcher)
    else:
        await dispatcher.start_polling(bot, polling_timeout=10)


async def serve_webhook(bot: Bot, dispatcher: Dispatcher) -> None:
    """Serve WEBHOOK_LISTEN until SIGINT, after registering WEBHOOK_URL."""
    secret = os.environ["WEBHOOK_SECRET"]
    app = web.Application()
    SimpleRequestHandler(dispatcher, bot, secret_token=secret).register(app, path="/webhook")
    runner = web.AppRunner(app)
    await runner.setup()
    host, _, port = os.environ["WEBHOOK_LISTEN"].rpartition(":")
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
    try:
        await web.TCPSite(runner, host, int(port)).start()
        await bot.set_webhook(os.environ["WEBHOOK_URL"], secret_token=secret)
        await stop.wait()
    finally:
        await runner.cleanup()
        await bot.session.close()


if __name__ == "__main__":
    asyncio.run(main())
