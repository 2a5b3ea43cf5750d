"""/stats: the current wave's headline figures for anyone; `/stats full` for the bot's admins
(every table, the cross-tabs, and a CSV of the suppressed aggregates)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import gettext as _

from handlers.admin.access import is_admin, refuse
from services.survey.export import aggregates_csv
from services.survey.report import join_parts, render_full, render_headline, render_trend
from services.survey.waves import wave_aggregates
from storage import Storage

TREND_WAVES = 6


async def stats_command(
    message: Message,
    command: CommandObject,
    storage: Storage,
    admin_ids: frozenset[int],
    min_cell_size: int,
) -> None:
    full = (command.args or "").strip().lower() == "full"
    if full and not is_admin(message, admin_ids):
        await refuse(message)
        return
    waves = await storage.survey.waves()
    if not waves:
        await message.reply(_("No survey has run yet, so there are no figures."))
        return
    wave = waves[0][0]  # the open wave, or the latest one
    aggregates = await wave_aggregates(storage, wave.id, min_cell_size)
    if not full:
        await message.reply(render_headline(wave, aggregates))
        return
    parts = render_full(wave, aggregates)
    if len(waves) > 1:
        # The shown wave's figures are at hand already; only the older ones are computed.
        trend = [(wave, aggregates)] + [
            (other, await wave_aggregates(storage, other.id, min_cell_size))
            for other, _count in waves[1:TREND_WAVES]
        ]
        parts.append(render_trend(trend))
    for text in join_parts(parts):
        await message.answer(text)
    if aggregates.respondents is not None:
        document = BufferedInputFile(
            aggregates_csv(aggregates).encode(), filename=f"vyraj-wave-{wave.id}.csv"
        )
        await message.answer_document(
            document, caption=_("Suppressed aggregates of this wave (no individual answers).")
        )


def create_router() -> Router:
    router = Router(name="stats")
    router.message.register(stats_command, Command("stats"))
    return router
