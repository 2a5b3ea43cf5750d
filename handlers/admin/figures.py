"""/stats full for the bot's admins: every published table, the cross-tabs, the trend across
waves, and a CSV of the suppressed aggregates, all from the waves' snapshots."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from services.policy import Policy
from services.survey.report_cache import full_report
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
    # The first is the open wave, or the latest one; the others only make the trend.
    published = tuple([(wave, await storage.survey.snapshot(wave.id)) for wave in waves])
    report = await full_report(published, policy.min_cell_size, get_i18n().current_locale)
    for text in report.messages:
        await message.answer(text)
    if report.csv is not None:
        document = BufferedInputFile(report.csv.encode(), filename=f"vyraj-wave-{waves[0].id}.csv")
        await message.answer_document(
            document, caption=_("Suppressed aggregates of this wave (no individual answers).")
        )


def create_router() -> Router:
    router = Router(name="full_stats")
    router.message.register(full_stats_command, Command("stats"), asks_for_full)
    return router
