"""A wave's suppressed aggregates as JSON: the published snapshot that /stats, the CSV and the
digest read, and that only a change by at least k distinct respondents replaces."""

from __future__ import annotations

import json
from typing import Any

from services.survey.aggregates import ChoiceTable, CrossTab, Table, WaveAggregates
from storage import SurveySnapshot


def published_figures(snapshot: SurveySnapshot | None, k: int) -> WaveAggregates:
    """The figures of a wave's snapshot; nothing published when it has none yet."""
    return WaveAggregates(k, None) if snapshot is None else aggregates_from_json(snapshot.figures)


def aggregates_to_json(aggregates: WaveAggregates) -> str:
    """Canonical JSON of everything publishable (the same figures always give the same text)."""
    return json.dumps(
        {
            "k": aggregates.k,
            "respondents": aggregates.respondents,
            "tables": [
                [t.question, t.total, t.cells, t.other, sorted(t.folded)]
                for t in aggregates.tables.values()
            ],
            "choices": [[c.question, c.total, c.cells] for c in aggregates.choices.values()],
            "crosstabs": [
                [
                    x.name,
                    x.rows,
                    x.columns,
                    [[row, column, value] for (row, column), value in x.cells.items()],
                    [x.row_totals[row] for row in x.rows],
                    [x.column_totals[column] for column in x.columns],
                    x.total,
                ]
                for x in aggregates.crosstabs.values()
            ],
        },
        separators=(",", ":"),
    )


def aggregates_from_json(text: str) -> WaveAggregates:
    raw = json.loads(text)
    tables = [
        Table(question, total, _pairs(cells), other, frozenset(folded))
        for question, total, cells, other, folded in raw["tables"]
    ]
    choices = [
        ChoiceTable(question, total, _pairs(cells)) for question, total, cells in raw["choices"]
    ]
    return WaveAggregates(
        raw["k"],
        raw["respondents"],
        {table.question: table for table in tables},
        {choice.question: choice for choice in choices},
        {crosstab[0]: _crosstab(*crosstab) for crosstab in raw["crosstabs"]},
    )


def _pairs(cells: list[list[Any]]) -> tuple[tuple[str, int], ...]:
    return tuple((str(name), int(count)) for name, count in cells)


def _crosstab(
    name: str,
    rows: list[str],
    columns: list[str],
    cells: list[list[Any]],
    row_totals: list[int],
    column_totals: list[int],
    total: int,
) -> CrossTab:
    return CrossTab(
        name,
        tuple(rows),
        tuple(columns),
        {(str(row), str(column)): value for row, column, value in cells},
        dict(zip(rows, row_totals, strict=True)),
        dict(zip(columns, column_totals, strict=True)),
        total,
    )
