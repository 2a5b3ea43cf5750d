"""Reports of published snapshots, rendered once per snapshot and language: a snapshot never
changes, so asking /stats again costs two small reads and no rendering; the first rendering
pauses between tables so that other people's updates go on."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from functools import lru_cache

from services.survey.aggregates import WaveAggregates
from services.survey.export import aggregates_csv_parts
from services.survey.report import full_parts, join_parts, render_headline, render_trend
from services.survey.snapshot import published_figures
from storage import SurveySnapshot, Wave

Published = tuple[Wave, SurveySnapshot | None]
FULL_REPORTS_KEPT = 16
PAUSE_SECONDS = 0.001  # between two tables of a report being rendered


@dataclass(frozen=True)
class FullReport:
    messages: tuple[str, ...]
    csv: str | None  # None: nothing published yet


# `locale` is the current language (the renderers read it from the i18n context): a key only.
@lru_cache(maxsize=64)
def headline(wave: Wave, snapshot: SurveySnapshot | None, k: int, locale: str) -> str:
    """What /stats shows of the wave: `render_headline` of its snapshot."""
    return render_headline(wave, published_figures(snapshot, k))


_full_reports: OrderedDict[tuple[tuple[Published, ...], int, str], FullReport] = OrderedDict()


async def full_report(waves: tuple[Published, ...], k: int, locale: str) -> FullReport:
    """`/stats full`: every table of the first wave, the trend across all, and its CSV."""
    key = (waves, k, locale)
    report = _full_reports.get(key)
    if report is not None:
        _full_reports.move_to_end(key)
        return report
    report = await _render_full_report(waves, k)
    _full_reports[key] = report
    while len(_full_reports) > FULL_REPORTS_KEPT:
        _full_reports.popitem(last=False)
    return report


def forget_full_reports() -> None:
    """Render every report again when next asked (benchmarks measure the rendering)."""
    _full_reports.clear()


async def _render_full_report(waves: tuple[Published, ...], k: int) -> FullReport:
    # Milliseconds at a million respondents, so the loop is given back after every table:
    # another person's update waits for one table at most, not for the whole report.
    wave, snapshot = waves[0]
    aggregates = published_figures(snapshot, k)
    parts = [part async for part in _one_at_a_time(full_parts(wave, aggregates))]
    if len(waves) > 1:
        trend: list[tuple[Wave, WaveAggregates]] = [(wave, aggregates)]
        for other, figures in waves[1:]:
            await _pause()
            trend.append((other, published_figures(figures, k)))
        parts.append(render_trend(trend))
    csv = None
    if aggregates.respondents is not None:
        csv = "".join([rows async for rows in _one_at_a_time(aggregates_csv_parts(aggregates))])
    return FullReport(tuple(join_parts(parts)), csv)


async def _one_at_a_time(parts: Iterable[str]) -> AsyncIterator[str]:
    """Each part, with a pause for others before the next is made."""
    for part in parts:
        yield part
        await _pause()


async def _pause() -> None:
    # Not sleep(0): a turn of the loop alone would leave the GIL with this thread, and the
    # database's thread would wait up to the 5 ms switch interval to hand anyone a result.
    await asyncio.sleep(PAUSE_SECONDS)
