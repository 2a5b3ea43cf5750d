"""Reports of published snapshots, rendered once per snapshot and language: a snapshot never
changes, so asking /stats again costs two small reads and no rendering on the event loop."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from services.survey.export import aggregates_csv
from services.survey.report import join_parts, render_full, render_headline, render_trend
from services.survey.snapshot import published_figures
from storage import SurveySnapshot, Wave

Published = tuple[Wave, SurveySnapshot | None]


@dataclass(frozen=True)
class FullReport:
    messages: tuple[str, ...]
    csv: str | None  # None: nothing published yet


# `locale` is the current language (the renderers read it from the i18n context): a key only.
@lru_cache(maxsize=64)
def headline(wave: Wave, snapshot: SurveySnapshot | None, k: int, locale: str) -> str:
    """What /stats shows of the wave: `render_headline` of its snapshot."""
    return render_headline(wave, published_figures(snapshot, k))


@lru_cache(maxsize=16)
def full_report(waves: tuple[Published, ...], k: int, locale: str) -> FullReport:
    """`/stats full`: every table of the first wave, the trend across all, and its CSV."""
    wave, snapshot = waves[0]
    aggregates = published_figures(snapshot, k)
    parts = render_full(wave, aggregates)
    if len(waves) > 1:
        parts.append(
            render_trend([(other, published_figures(figures, k)) for other, figures in waves])
        )
    csv = None if aggregates.respondents is None else aggregates_csv(aggregates)
    return FullReport(tuple(join_parts(parts)), csv)
