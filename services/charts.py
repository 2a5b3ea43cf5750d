"""Bar charts as PNG, readable on a phone. A `Chart` says what to draw and pickles, so the bot
draws it in a process of its own (bot/chart_process.py); matplotlib is imported when the first
chart is drawn, and each chart gets a `Figure` of its own, without pyplot's global state."""

from __future__ import annotations

import io
from dataclasses import dataclass

WIDTH_INCHES = 8
BAR_INCHES = 0.55
PANEL_INCHES = 1.0
COLOUR = "#c0392b"


def plain(text: str) -> str:
    """Text without emoji (flags and the like), which the chart fonts cannot draw."""
    kept = "".join(char for char in text if ord(char) < 0x2190 or 0x2C00 <= ord(char) < 0xFE00)
    return " ".join(kept.split())


Rows = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Chart:
    """One or more panels of (label, count) bars under a title, a note at the bottom; with
    `shares`, each bar also shows its share of the panel."""

    title: str
    panels: tuple[tuple[str, Rows], ...]
    note: str = ""
    shares: bool = True


def bar_chart(title: str, rows: Rows, note: str = "", *, shares: bool = True) -> Chart:
    """A single panel of horizontal bars."""
    return Chart(title, (("", rows),), note, shares)


def draw_chart(chart: Chart) -> bytes:
    """The chart as PNG: panels of horizontal bars, largest on top."""
    title, note, shares = chart.title, chart.note, chart.shares
    panels = [(subtitle, rows) for subtitle, rows in chart.panels if rows]
    if not panels:
        panels = [("", (("", 0),))]
    # Here, not at the top: only drawing a chart pays for importing matplotlib.
    from matplotlib.figure import Figure

    heights = [PANEL_INCHES + BAR_INCHES * len(rows) for _, rows in panels]
    figure = Figure(figsize=(WIDTH_INCHES, sum(heights) + 1.0), dpi=120)
    axes_list = figure.subplots(
        len(panels), 1, gridspec_kw={"height_ratios": heights}, squeeze=False
    )
    for (subtitle, rows), axes in zip(panels, axes_list[:, 0], strict=True):
        labels = [plain(label) for label, _ in rows][::-1]
        values = [value for _, value in rows][::-1]
        total = sum(values) or 1
        bars = axes.barh(labels, values, color=COLOUR)
        axes.bar_label(
            bars,
            labels=[
                f"{value} ({round(100 * value / total)}%)" if shares else str(value)
                for value in values
            ],
            padding=4,
            fontsize=13,
        )
        axes.set_title(plain(subtitle), fontsize=14, loc="left")
        axes.tick_params(axis="y", labelsize=13)
        axes.tick_params(axis="x", labelsize=10)
        axes.spines[["top", "right"]].set_visible(False)
        axes.set_xlim(0, max(values, default=1) * 1.35 or 1)
    figure.suptitle(plain(title), fontsize=16, x=0.02, ha="left")
    if note:
        figure.text(0.01, 0.005, plain(note), fontsize=9, color="#555555", wrap=True)
    figure.tight_layout(rect=(0, 0.04 if note else 0, 1, 0.97))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
