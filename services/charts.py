"""Bar charts as PNG, readable on a phone (matplotlib, Agg backend, no display needed)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

WIDTH_INCHES = 8
BAR_INCHES = 0.6


def plain(text: str) -> str:
    """Text without emoji (flags and the like), which the chart fonts cannot draw."""
    kept = "".join(char for char in text if ord(char) < 0x2190 or 0x2C00 <= ord(char) < 0xFE00)
    return " ".join(kept.split())


def bar_chart(
    title: str, rows: list[tuple[str, int]], note: str = "", *, shares: bool = True
) -> bytes:
    """Horizontal bars, largest at the top, each labelled with its count (and share)."""
    title, note = plain(title), plain(note)
    labels = [plain(label) for label, _ in rows][::-1]
    values = [value for _, value in rows][::-1]
    total = sum(values) or 1
    height = max(3.0, 1.6 + BAR_INCHES * len(rows))
    figure, axes = plt.subplots(figsize=(WIDTH_INCHES, height), dpi=120)
    try:
        bars = axes.barh(labels, values, color="#c0392b")
        axes.bar_label(
            bars,
            labels=[
                f"{value} ({round(100 * value / total)}%)" if shares else str(value)
                for value in values
            ],
            padding=4,
            fontsize=13,
        )
        axes.set_title(title, fontsize=16, loc="left", wrap=True)
        axes.tick_params(axis="y", labelsize=13)
        axes.tick_params(axis="x", labelsize=11)
        axes.spines[["top", "right"]].set_visible(False)
        axes.set_xlim(0, max(values, default=1) * 1.3)
        if note:
            figure.text(0.01, 0.01, note, fontsize=10, color="#555555", wrap=True)
        figure.tight_layout(rect=(0, 0.05 if note else 0, 1, 1))
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)
