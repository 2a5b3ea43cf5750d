"""Serving updates: long polling, or a webhook behind an aiohttp server.

Either way at most MAX_CONCURRENT_UPDATES updates are handled at once: polling fetches no more
while that many run, and the webhook answers Telegram's request only once a place is free, so a
burst waits in Telegram's queue instead of in this process's memory."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

from aiogram import Bot
from aiogram.webhook.aiohttp_server import setup_application
from aiohttp import web

from bot.app import Vyraj, set_commands
from bot.telegram_retry import StartBudget, call_telegram
from bot.update_reader import UpdateSkippingRequestHandler
from bot.webhook_setup import (
    WEBHOOK_CLAIM,
    WEBHOOK_CLAIM_RETRY,
    WEBHOOK_CLAIM_TIME,
    ensure_webhook,
)

logger = logging.getLogger(__name__)


async def call_at_start(
    vyraj: Vyraj, budget: StartBudget, call: Callable[[], Awaitable[object]]
) -> None:
    settings = vyraj.settings
    await call_telegram(budget, call, api_url=settings.telegram_api_url, token=vyraj.bot.token)


async def serve_polling(
    vyraj: Vyraj,
    *,
    handle_as_tasks: bool = True,
    handle_signals: bool = True,
    budget: StartBudget | None = None,
) -> None:
    """Long polling until stopped (SIGINT/SIGTERM or `dispatcher.stop_polling`); closes
    everything the bot holds however it ends, a failed start included."""
    budget = budget or StartBudget.from_now()
    try:
        await call_at_start(vyraj, budget, lambda: set_commands(vyraj.bot, vyraj.i18n))
        await call_at_start(
            vyraj, budget, lambda: vyraj.bot.delete_webhook(drop_pending_updates=False)
        )
        vyraj.dispatcher.startup.register(vyraj.mark_started)  # runs after Vyraj's own
        # aiogram emits startup outside its own try/finally: ours closes on that path too.
        await vyraj.dispatcher.start_polling(
            vyraj.bot,
            handle_as_tasks=handle_as_tasks,
            handle_signals=handle_signals,
            polling_timeout=10,
            tasks_concurrency_limit=vyraj.settings.max_concurrent_updates,
        )
    finally:
        await vyraj.close()


def create_webhook_app(vyraj: Vyraj, *, handle_in_background: bool = True) -> web.Application:
    """The aiohttp app that receives updates; a wrong secret header gets 401."""
    settings = vyraj.settings
    assert settings.webhook_secret is not None  # enforced by Settings
    app = web.Application()
    # Shutdown runs in registration order: the dispatcher's (which waits for in-flight
    # updates and closes the database) must come before the handler closes the bot session.
    setup_application(app, vyraj.dispatcher, bot=vyraj.bot)
    BoundedRequestHandler(
        vyraj.dispatcher,
        vyraj.bot,
        secret_token=settings.webhook_secret.get_secret_value(),
        handle_in_background=handle_in_background,
        limit=settings.max_concurrent_updates,
    ).register(app, path=settings.webhook_path)
    return app


class BoundedRequestHandler(UpdateSkippingRequestHandler):
    """Handles at most `limit` updates in the background; the next request is answered only
    once one of them finishes (Telegram then holds the backlog)."""

    def __init__(self, *args: Any, limit: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._places = asyncio.Semaphore(limit)

    async def _handle_request_background(self, bot: Bot, request: web.Request) -> web.Response:
        await self._places.acquire()
        try:
            return await super()._handle_request_background(bot, request)
        except BaseException:
            self._places.release()  # no task was started to release it
            raise

    async def _background_feed_update(self, bot: Bot, update: dict[str, Any]) -> None:
        try:
            await super()._background_feed_update(bot, update)
        finally:
            self._places.release()


async def register_webhook(
    vyraj: Vyraj,
    stop: asyncio.Event,
    ensure: Callable[[], Awaitable[object]],
    budget: StartBudget,
) -> bool:
    """Check and set the webhook under the deployment's claim, so that two instances starting
    together do not both set it. While another holds the claim, wait: it gives the claim up
    within seconds, or it died and the claim lapses. False if stopped meanwhile."""
    while not await vyraj.claims.take(WEBHOOK_CLAIM, WEBHOOK_CLAIM_TIME):
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), WEBHOOK_CLAIM_RETRY.total_seconds())
            return False
    try:
        await call_at_start(vyraj, budget, ensure)
    finally:
        await vyraj.claims.give_up(WEBHOOK_CLAIM)
    return True


async def serve_webhook(
    vyraj: Vyraj,
    *,
    stop: asyncio.Event | None = None,
    handle_in_background: bool = True,
    handle_signals: bool = True,
    budget: StartBudget | None = None,
) -> None:
    """Listen on WEBHOOK_LISTEN, register WEBHOOK_URL with Telegram unless it is already,
    serve until stopped; closes everything the bot holds however it ends."""
    try:
        await _serve_webhook(vyraj, stop, handle_in_background, handle_signals, budget)
    finally:
        await vyraj.close()


async def _serve_webhook(
    vyraj: Vyraj,
    stop: asyncio.Event | None,
    handle_in_background: bool,
    handle_signals: bool,
    budget: StartBudget | None,
) -> None:
    settings = vyraj.settings
    assert settings.webhook_url is not None
    assert settings.webhook_secret is not None
    webhook_url, secret = settings.webhook_url, settings.webhook_secret.get_secret_value()
    budget = budget or StartBudget.from_now()
    await call_at_start(vyraj, budget, lambda: set_commands(vyraj.bot, vyraj.i18n))
    stop = stop or asyncio.Event()
    if handle_signals:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)
    runner = web.AppRunner(
        create_webhook_app(vyraj, handle_in_background=handle_in_background),
        handle_signals=False,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.listen_host, settings.listen_port)
        await site.start()
        allowed_updates = vyraj.dispatcher.resolve_used_update_types()
        if not await register_webhook(
            vyraj,
            stop,
            lambda: ensure_webhook(vyraj.bot, webhook_url, secret, allowed_updates),
            budget,
        ):
            return
        await vyraj.mark_started()
        logger.info("Webhook server listening on %s", settings.webhook_listen)
        await stop.wait()
    finally:
        await runner.cleanup()
