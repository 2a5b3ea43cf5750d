"""`vyraj digest`: print the digest from the existing database (read-only), or post it now."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.app import create_bot, create_digest_service
from bot.chart_process import ChartProcess
from bot.i18n import create_i18n
from bot.sandbox.telegram_html import html_to_plain
from bot.settings import Settings
from bot.startup import load_library, open_existing_storage, reach_telegram
from bot.telegram_retry import StartBudget
from services.clock import SystemClock
from services.knowledge.view_counts import ViewCounts


async def print_digest(settings: Settings, chart: Path | None) -> int:
    """Print the digest as a reader would see it; write its chart to `chart` if there is one."""
    library = load_library(settings)
    storage = await open_existing_storage(settings, read_only=True)
    charts = ChartProcess()
    try:
        i18n = create_i18n(settings.default_locale)
        service = create_digest_service(
            None, storage, library, i18n, settings, SystemClock(), charts, ViewCounts(storage)
        )
        composed = await service.compose(service.now())
    finally:
        await charts.close()
        await storage.close()
    # Without a chart the headline is already the first message.
    parts = composed.messages if composed.chart is None else [composed.caption, *composed.messages]
    print("\n\n".join(html_to_plain(part) for part in parts))
    if chart is not None:
        write_chart(chart, composed.chart)
    return 0


def write_chart(path: Path, chart: bytes | None) -> None:
    """Write the PNG, or say why there is none."""
    if chart is None:
        print(f"\n[no chart: too few answers to draw one; {path} not written]")
        return
    path.write_bytes(chart)
    print(f"\n[chart: {path}]")


async def post_digest(settings: Settings) -> int:
    """Post the digest to DIGEST_CHAT_ID now and record it."""
    library = load_library(settings)
    await reach_telegram(settings, StartBudget.from_now())
    storage = await open_existing_storage(settings, read_only=False)
    bot = create_bot(settings)
    charts = ChartProcess()
    try:
        i18n = create_i18n(settings.default_locale)
        service = create_digest_service(
            bot, storage, library, i18n, settings, SystemClock(), charts, ViewCounts(storage)
        )
        posted = await service.post_now()
    finally:
        await charts.close()
        await bot.session.close()
        await storage.close()
    if not posted:
        print("The digest could not be posted (see the log).", file=sys.stderr)
        return 1
    print("The digest is posted.")
    return 0
