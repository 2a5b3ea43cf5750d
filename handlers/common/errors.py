"""The last resort: log an unexpected error (ids masked) and apologise, never crash."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

logger = logging.getLogger(__name__)


async def on_error(event: ErrorEvent) -> bool:
    logger.error(
        "Unhandled %s while handling an update",
        type(event.exception).__name__,
        exc_info=event.exception,
    )
    update = event.update
    apology = _("Sorry, something went wrong on my side. Please try again.")
    try:
        if update.message is not None and update.message.chat.type == "private":
            await update.message.answer(apology)
        elif update.callback_query is not None:
            await update.callback_query.answer(apology)
    except Exception:  # the apology itself must never raise further
        logger.warning("Could not deliver the apology", exc_info=True)
    return True


def create_router() -> Router:
    router = Router(name="errors")
    router.errors.register(on_error)
    return router
