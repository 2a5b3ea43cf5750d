"""CSV of a wave's suppressed aggregates (never a single response): what `/stats full` sends."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from services.survey.aggregates import WaveAggregates


def aggregates_csv_parts(aggregates: WaveAggregates) -> Iterator[str]:
    """The CSV one table at a time, a row per published figure: table, row category, column
    category, count. Hidden cross-tab cells have an empty count; hidden categories only count
    inside OTHER."""
    yield _rows([["table", "category", "column", "count"]])
    if aggregates.respondents is None:
        return
    yield _rows([["respondents", "", "", aggregates.respondents]])
    for code, table in aggregates.tables.items():
        rows: list[list[object]] = [[code, category, "", count] for category, count in table.cells]
        if table.other:
            rows.append([code, "*other*", "", table.other])
        yield _rows([*rows, [code, "*total*", "", table.total]])
    for code, choice in aggregates.choices.items():
        options: list[list[object]] = [[code, option, "", count] for option, count in choice.cells]
        yield _rows([*options, [code, "*asked*", "", choice.total]])
    for name, crosstab in aggregates.crosstabs.items():
        yield _rows(
            [name, row, column, "" if value is None else value]
            for (row, column), value in crosstab.cells.items()
        )


def _rows(rows: Iterable[list[object]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()
