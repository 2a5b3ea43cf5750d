"""CSV of a wave's suppressed aggregates (never a single response): what `/stats full` sends."""

from __future__ import annotations

import csv
import io

from services.survey.aggregates import WaveAggregates


def aggregates_csv(aggregates: WaveAggregates) -> str:
    """One row per published figure: table, row category, column category, count.

    Hidden cross-tab cells appear with an empty count; hidden categories only inside OTHER.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["table", "category", "column", "count"])
    if aggregates.respondents is None:
        return out.getvalue()
    writer.writerow(["respondents", "", "", aggregates.respondents])
    for code, table in aggregates.tables.items():
        for category, count in table.cells:
            writer.writerow([code, category, "", count])
        if table.other:
            writer.writerow([code, "*other*", "", table.other])
        writer.writerow([code, "*total*", "", table.total])
    for code, choice in aggregates.choices.items():
        for option, count in choice.cells:
            writer.writerow([code, option, "", count])
        writer.writerow([code, "*asked*", "", choice.total])
    for name, crosstab in aggregates.crosstabs.items():
        for (row, column), value in crosstab.cells.items():
            writer.writerow([name, row, column, "" if value is None else value])
    return out.getvalue()
