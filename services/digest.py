"""What the weekly digest says, as plain data: survey figures (suppressed), their change since
the last digest and since the previous wave, polls closed in the period, and the guide's
activity.

Differencing protection: the survey figures are the wave's published snapshot, which moves only
once at least k distinct respondents answered or changed their answers; while it has not moved
since the last digest, the digest repeats the figures and says so.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from services.polls.results import final_results
from services.survey.aggregates import OTHER, Table, WaveAggregates
from storage import Poll, Wave

TOP_COUNTRIES = 5
TOP_ARTICLES = 3


@dataclass(frozen=True)
class Snapshot:
    """The figures a digest published: the baseline of the next one."""

    wave_id: int | None = None
    survey_version: int = 0  # of the wave's published snapshot; 0: none yet
    respondents: int | None = None
    status: Mapping[str, int] = field(default_factory=dict)
    countries: Mapping[str, int] = field(default_factory=dict)
    views: Mapping[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Snapshot:
        raw = json.loads(text)
        return cls(
            wave_id=raw.get("wave_id"),
            survey_version=int(raw.get("survey_version", 0)),
            respondents=raw.get("respondents"),
            status={str(k): int(v) for k, v in raw.get("status", {}).items()},
            countries={str(k): int(v) for k, v in raw.get("countries", {}).items()},
            views={str(k): int(v) for k, v in raw.get("views", {}).items()},
        )


@dataclass(frozen=True)
class Figure:
    category: str
    count: int
    share: int  # percent
    change: int | None  # since the last digest, when it had this category


@dataclass(frozen=True)
class PollOutcome:
    question: str
    leader: str | None  # None: fewer than k votes, nothing published
    leader_votes: int
    votes: int | None


@dataclass(frozen=True)
class Digest:
    period_start: dt.date | None
    period_end: dt.date
    k: int
    wave: Wave | None
    respondents: int | None
    new_respondents: int | None
    fresh: bool  # False: figures repeated, the survey's snapshot has not moved since
    status: tuple[Figure, ...]
    countries: tuple[Figure, ...]
    previous_wave: Wave | None
    wave_shift: tuple[tuple[str, int, int], ...]  # category, share then, share now
    polls: tuple[PollOutcome, ...]
    top_articles: tuple[tuple[str, int], ...]
    unanswered: int


def table_counts(table: Table | None) -> dict[str, int]:
    if table is None:
        return {}
    counts = dict(table.cells)
    if table.other:
        counts[OTHER] = table.other
    return counts


def _figures(
    counts: Mapping[str, int], total: int, before: Mapping[str, int] | None, limit: int | None
) -> tuple[Figure, ...]:
    rows = sorted(counts.items(), key=lambda item: (item[0] == OTHER, -item[1], item[0]))
    if limit is not None:
        rows = rows[:limit]
    return tuple(
        Figure(
            category,
            count,
            round(100 * count / total) if total else 0,
            None if before is None or category not in before else count - before[category],
        )
        for category, count in rows
    )


def _poll_outcome(poll: Poll, k: int) -> PollOutcome:
    results = final_results(poll.tallies, k, multiple=poll.multiple)
    if results is None:
        return PollOutcome(poll.question, None, 0, None)
    index, count = results.rows[0]
    leader = None if index == OTHER else poll.options[int(index)]
    return PollOutcome(poll.question, leader, count, results.total)


def build_digest(
    *,
    now: dt.datetime,
    k: int,
    wave: Wave | None,
    aggregates: WaveAggregates | None,
    survey_version: int,
    baseline: Snapshot | None,
    baseline_date: dt.date | None,
    previous_wave: Wave | None,
    previous_aggregates: WaveAggregates | None,
    closed_polls: list[Poll],
    views: Mapping[str, int],
    unanswered: int,
) -> tuple[Digest, Snapshot]:
    """The digest for `now`, and the snapshot to record as the next one's baseline.

    `aggregates` are the wave's published snapshot, `survey_version` its version."""
    same_wave = baseline is not None and wave is not None and baseline.wave_id == wave.id
    published: Snapshot
    if wave is None or aggregates is None or aggregates.respondents is None:
        published = Snapshot(None if wave is None else wave.id, survey_version)
        fresh = True
    elif same_wave and baseline is not None and survey_version == baseline.survey_version:
        published = baseline  # the snapshot has not moved: repeat the last figures exactly
        fresh = False
    else:
        published = Snapshot(
            wave.id,
            survey_version,
            aggregates.respondents,
            table_counts(aggregates.tables.get("status")),
            table_counts(aggregates.tables.get("country")),
        )
        fresh = True
    before = baseline if same_wave and fresh else None
    respondents = published.respondents
    status_total = sum(published.status.values())
    country_total = sum(published.countries.values())
    shift: list[tuple[str, int, int]] = []
    if previous_aggregates is not None and status_total:
        then = table_counts(previous_aggregates.tables.get("status"))
        then_total = sum(then.values())
        for category, count in published.status.items():
            if category in then and category != OTHER and then_total:
                shift.append(
                    (
                        category,
                        round(100 * then[category] / then_total),
                        round(100 * count / status_total),
                    )
                )
    read = {
        article: count - (baseline.views.get(article, 0) if baseline else 0)
        for article, count in views.items()
    }
    top_articles = tuple(
        sorted(((a, n) for a, n in read.items() if n > 0), key=lambda item: (-item[1], item[0]))[
            :TOP_ARTICLES
        ]
    )
    digest = Digest(
        period_start=baseline_date,
        period_end=now.date(),
        k=k,
        wave=wave,
        respondents=respondents,
        new_respondents=(
            respondents - before.respondents
            if before is not None and respondents is not None and before.respondents is not None
            else None
        ),
        fresh=fresh,
        status=_figures(published.status, status_total, before.status if before else None, None),
        countries=_figures(
            published.countries,
            country_total,
            before.countries if before else None,
            TOP_COUNTRIES,
        ),
        previous_wave=previous_wave,
        wave_shift=tuple(shift),
        polls=tuple(_poll_outcome(poll, k) for poll in closed_polls),
        top_articles=top_articles,
        unanswered=unanswered,
    )
    snapshot = Snapshot(
        published.wave_id,
        published.survey_version,
        published.respondents,
        published.status,
        published.countries,
        dict(views),
    )
    return digest, snapshot
