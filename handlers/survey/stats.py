"""/stats: the current wave's published headline figures for anyone (`/stats full` is the
admins')."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from services.policy import Policy
from services.survey.report_cache import headline
from storage import Storage


async def stats_command(message: Message, storage: Storage, policy: Policy) -> None:
    waves = await storage.survey.recent_waves(1)
    if not waves:
        await message.reply(_("No survey has run yet, so there are no figures."))
        return
    wave = waves[0]  # the open wave, or the latest one
    snapshot = await storage.survey.snapshot(wave.id)
    locale = get_i18n().current_locale
    await message.reply(headline(wave, snapshot, policy.min_cell_size, locale))


def create_router() -> Router:
    router = Router(name="stats")
    router.message.register(stats_command, Command("stats"))
    return router
