"""/stats full for the bot's admins: every published table, the cross-tabs, the trend across
waves, and a CSV of the suppressed aggregates, all from the waves' snapshots."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import gettext as _

from services.policy import Policy
from services.survey.export import aggregates_csv
from services.survey.report import join_parts, render_full, render_trend
from services.survey.waves import published_aggregates
from storage import Storage

TREND_WAVES = 6


def asks_for_full(message: Message, command: CommandObject) -> bool:
    """`/stats full`: the admins' view; a bare /stats is the public headline."""
    return (command.args or "").strip().lower() == "full"


async def full_stats_command(message: Message, storage: Storage, policy: Policy) -> None:
    waves = await storage.survey.recent_waves(TREND_WAVES)
    if not waves:
        await message.reply(_("No survey has run yet, so there are no figures."))
        return
    wave = waves[0]  # the open wave, or the latest one
    aggregates = await published_aggregates(storage, wave.id, policy.min_cell_size)
    parts = render_full(wave, aggregates)
    if len(waves) > 1:
        # The shown wave's figures are at hand already; only the older ones are read.
        trend = [(wave, aggregates)] + [
            (other, await published_aggregates(storage, other.id, policy.min_cell_size))
            for other in waves[1:]
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
    router = Router(name="full_stats")
    router.message.register(full_stats_command, Command("stats"), asks_for_full)
    return router
