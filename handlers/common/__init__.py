"""Shared plumbing: start, menu, language, privacy, cancel, forget, fallback, errors."""

from aiogram import Router

from handlers.common import cancel, forget, language, privacy, start


def get_routers() -> list[Router]:
    """The common commands; the fallback and error routers are placed by `handlers`."""
    return [
        cancel.create_router(),
        start.create_router(),
        language.create_router(),
        privacy.create_router(),
        forget.create_router(),
    ]
