"""matplotlib costs a third of a second to import: the bot starts without it and imports it
only when a chart is drawn."""

from __future__ import annotations

import subprocess
import sys

from services.charts import bar_chart

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
    assert bar_chart("Status", [("Left", 12), ("Staying", 5)], "note").startswith(b"\x89PNG")
