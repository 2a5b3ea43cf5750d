"""One router per user-facing feature, included by `get_routers` in a fixed order."""

from aiogram import Router

from handlers import cancel, errors, fallback, language, privacy, start


def get_routers() -> list[Router]:
    """Feature routers first, then the fallback for everything unrecognised, then errors."""
    return [
        cancel.router,
        start.router,
        language.router,
        privacy.router,
        fallback.router,
        errors.router,
    ]
