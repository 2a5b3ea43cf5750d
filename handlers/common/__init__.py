"""Shared plumbing: start, menu, language, privacy, cancel, forget, fallback, errors."""

from aiogram import Router

from handlers.common import cancel, forget, language, privacy, private_only, start


def get_routers() -> list[Router]:
    """The common commands; the fallback and error routers are placed by `handlers`."""
    return [
        cancel.create_router(),
        private_only.create_router(),
        # Before start: `/start forget` (a deep link) opens /forget, any other /start the menu.
        forget.create_router(),
        start.create_router(),
        language.create_router(),
        privacy.create_router(),
    ]
