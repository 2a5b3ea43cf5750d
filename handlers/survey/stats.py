"""/stats: the current wave's published headline figures for anyone (`/stats full` is the
admins')."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from services.policy import Policy
from services.survey.report import render_headline
from services.survey.waves import published_aggregates
from storage import Storage


async def stats_command(message: Message, storage: Storage, policy: Policy) -> None:
    waves = await storage.survey.recent_waves(1)
    if not waves:
        await message.reply(_("No survey has run yet, so there are no figures."))
        return
    wave = waves[0]  # the open wave, or the latest one
    aggregates = await published_aggregates(storage, wave.id, policy.min_cell_size)
    await message.reply(render_headline(wave, aggregates))


def create_router() -> Router:
    router = Router(name="stats")
    router.message.register(stats_command, Command("stats"))
    return router
