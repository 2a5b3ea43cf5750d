"""What importing the bot sets up: matplotlib (a third of a second) is imported only when a
chart is drawn, and numpy's BLAS gets one thread unless the operator says otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

from services.charts import bar_chart, draw_chart

LOADED_AFTER = "import sys, {module}; print('matplotlib' in sys.modules)"


def matplotlib_loaded_after_importing(module: str) -> bool:
    # A fresh interpreter: this test process may have imported matplotlib already.
    result = subprocess.run(
        [sys.executable, "-c", LOADED_AFTER.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip() == "True"


def test_starting_the_bot_does_not_import_matplotlib() -> None:
    assert not matplotlib_loaded_after_importing("bot.app")


def test_the_probe_sees_matplotlib_when_it_is_imported() -> None:
    assert matplotlib_loaded_after_importing("matplotlib.figure")


def test_a_chart_is_a_png() -> None:
    chart = bar_chart("Status", (("Left", 12), ("Staying", 5)), "note")
    assert draw_chart(chart).startswith(b"\x89PNG")


def test_numpy_gets_one_blas_thread_unless_the_operator_says_otherwise() -> None:
    probe = "import os, bot.app; print(os.environ['OPENBLAS_NUM_THREADS'])"
    environment = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    for given, expected in ((None, "1"), ("2", "2")):
        if given is not None:
            environment["OPENBLAS_NUM_THREADS"] = given
        result = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True,
            env=environment,
        )  # fmt: skip
        assert result.stdout.strip() == expected
