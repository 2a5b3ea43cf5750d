"""Babel's date and number formatting stay unloaded (aiogram names them only for LazyProxy),
and a stand-in never outlives the import it served."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.lean_imports import import_without


def run_fresh(code: str) -> str:
    """`code` in a new interpreter (this one imported everything long ago); its output."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip()


def test_the_bot_loads_no_babel_formatting() -> None:
    output = run_fresh(
        """
        import sys, bot.app
        print(sorted(name for name in ("babel.support", "babel.dates", "babel.numbers")
                     if name in sys.modules))
        """
    )
    assert output == "[]"


def test_lazy_gettext_still_gives_a_real_lazy_translation() -> None:
    output = run_fresh(
        """
        import bot.app
        from aiogram.utils.i18n import lazy_gettext
        from bot.i18n import create_i18n
        i18n = create_i18n("en")
        with i18n.context(), i18n.use_locale("be"):
            text = lazy_gettext("<b>Polls in this chat</b>")
            print(type(text).__module__, text)
        """
    )
    assert output == "babel.support <b>Апытанні ў гэтым чаце</b>"


@pytest.fixture
def demo_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`lean_demo`: `uses` names `unused.double`, which loads only when called."""
    package = tmp_path / "lean_demo"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "uses.py").write_text("from lean_demo.unused import double\n")
    (package / "unused.py").write_text("def double(n):\n    return 2 * n\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "lean_demo"
    for name in ("lean_demo", "lean_demo.uses", "lean_demo.unused"):
        sys.modules.pop(name, None)


def test_the_unused_module_loads_on_first_call_and_no_stand_in_remains(
    demo_package: str,
) -> None:
    import_without("lean_demo.uses", "lean_demo.unused", "double")
    assert "lean_demo.uses" in sys.modules
    assert "lean_demo.unused" not in sys.modules
    uses = sys.modules["lean_demo.uses"]
    assert uses.double(21) == 42
    assert sys.modules["lean_demo.unused"].double.__module__ == "lean_demo.unused"


def test_nothing_stands_in_for_a_module_already_loaded(demo_package: str) -> None:
    import lean_demo.unused  # type: ignore[import-not-found]

    import_without("lean_demo.uses", "lean_demo.unused", "double")
    assert sys.modules["lean_demo.uses"].double is lean_demo.unused.double
