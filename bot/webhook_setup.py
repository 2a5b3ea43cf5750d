"""Registering the webhook with Telegram once per deployment: each of several instances
behind one URL checks it at start and sets it only when Telegram's differs."""

from __future__ import annotations

import datetime as dt

from aiogram import Bot, Dispatcher

from bot.app import create_bot
from bot.settings import Settings
from bot.telegram_retry import StartBudget, call_telegram
from handlers import get_routers

# Held while one instance checks and sets the webhook: two starting together would otherwise
# both find it unset and both call setWebhook.
WEBHOOK_CLAIM = "webhook-setup"
WEBHOOK_CLAIM_TIME = dt.timedelta(minutes=1)
# How often an instance that found the claim taken looks again.
WEBHOOK_CLAIM_RETRY = dt.timedelta(seconds=1)


def used_update_types() -> list[str]:
    """The update kinds Vyraj's handlers take: what the webhook asks Telegram for."""
    dispatcher = Dispatcher()
    dispatcher.include_routers(*get_routers())
    return dispatcher.resolve_used_update_types()


async def ensure_webhook(bot: Bot, url: str, secret: str, allowed_updates: list[str]) -> bool:
    """setWebhook, unless Telegram already delivers these update kinds to `url` (another
    instance set it); True if it was set. Telegram never shows the secret: after changing
    WEBHOOK_SECRET, `vyraj set-webhook` sets it again."""
    info = await bot.get_webhook_info()
    if info.url == url and sorted(info.allowed_updates or ()) == sorted(allowed_updates):
        return False
    await bot.set_webhook(url, secret_token=secret, allowed_updates=allowed_updates)
    return True


async def set_webhook(settings: Settings) -> None:
    """`vyraj set-webhook`: register WEBHOOK_URL, the secret and the update kinds, whatever
    Telegram has now, and say so in one line."""
    assert settings.webhook_url is not None
    assert settings.webhook_secret is not None
    url, secret = settings.webhook_url, settings.webhook_secret.get_secret_value()
    bot = create_bot(settings)
    try:
        await call_telegram(
            StartBudget.from_now(),
            lambda: bot.set_webhook(url, secret_token=secret, allowed_updates=used_update_types()),
            api_url=settings.telegram_api_url,
            token=bot.token,
        )
    finally:
        await bot.session.close()
    print(f"Webhook set: {url}")
