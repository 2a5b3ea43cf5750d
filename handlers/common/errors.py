"""The last resort: log an unexpected error (ids masked) and apologise, never crash."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import ErrorEvent, Message
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
    # A button press is answered already (CallbackAnswerMiddleware): apologise in its chat.
    query = update.callback_query
    message = update.message or (query.message if query is not None else None)
    try:
        if isinstance(message, Message) and message.chat.type == "private":
            await message.answer(apology)
    except Exception:  # the apology itself must never raise further
        logger.warning("Could not deliver the apology", exc_info=True)
    return True


def create_router() -> Router:
    router = Router(name="errors")
    router.errors.register(on_error)
    return router
