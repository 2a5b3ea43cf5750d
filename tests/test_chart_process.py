"""Charts are drawn in a process of their own, so matplotlib never holds the bot's process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.chart_process import ChartError, ChartProcess
from bot.chart_worker import decode_chart, encode_chart
from services.charts import Chart, bar_chart

DRAW_AND_LOOK = """
import asyncio, sys
from bot.chart_process import ChartProcess
from services.charts import bar_chart

async def main():
    charts = ChartProcess()
    try:
        png = await charts.draw(bar_chart("Status", (("Left", 12), ("Staying", 5))))
    finally:
        await charts.close()
    print(png.startswith(b"\\x89PNG"), "matplotlib" in sys.modules)

asyncio.run(main())
"""


def test_a_chart_is_drawn_without_importing_matplotlib_in_the_bot_process() -> None:
    # A fresh interpreter: this test process may have imported matplotlib already.
    result = subprocess.run(
        [sys.executable, "-c", DRAW_AND_LOOK], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["True", "False"]


def test_a_chart_crosses_the_pipe_unchanged() -> None:
    chart = Chart("T", (("Status", (("Left", 12), ("Стаю", 5))), ("", ())), "note", False)
    assert decode_chart(encode_chart(chart)[4:]) == chart


async def test_the_chart_process_starts_at_the_first_chart_and_stops_at_close() -> None:
    charts = ChartProcess()
    assert not charts.running
    try:
        first = await charts.draw(bar_chart("A", (("x", 1), ("y", 2), ("z", 3))))
        second = await charts.draw(bar_chart("B", (("x", 3),), shares=False))
        assert charts.running
    finally:
        await charts.close()
    assert first.startswith(b"\x89PNG")
    assert second.startswith(b"\x89PNG")
    assert not charts.running
    await charts.close()  # a second close is harmless


async def test_a_chart_process_that_died_is_replaced_at_the_next_chart() -> None:
    charts = ChartProcess()
    try:
        await charts.draw(bar_chart("A", (("x", 1),)))
        assert charts._process is not None
        charts._process.kill()
        await charts._process.wait()
        with pytest.raises(ChartError):
            await charts.draw(bar_chart("B", (("x", 1),)))
        assert (await charts.draw(bar_chart("C", (("x", 1),)))).startswith(b"\x89PNG")
    finally:
        await charts.close()
