"""`make eval` runs the tuning sets, then every blind holdout that exists, in number order."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture
def eval_search(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCH))  # the script imports its neighbour `record`
    spec = importlib.util.spec_from_file_location("eval_search", BENCH / "eval_search.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "eval_search", module)  # its dataclasses look it up
    spec.loader.exec_module(module)
    return module


def test_every_blind_holdout_is_run_after_the_tuning_sets_when_present(
    eval_search: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tests/eval").mkdir(parents=True)
    monkeypatch.setattr(eval_search, "ROOT", tmp_path)
    tuning = list(eval_search.TUNING_SETS)
    assert {
        "questions.yaml",
        "holdout.yaml",
        "holdout3.yaml",
        "holdout10.yaml",
        "holdout11.yaml",
        "holdout12.yaml",
    } <= set(tuning)
    assert eval_search.default_sets() == tuning
    for name in ("holdout14.yaml", "holdout3.yaml", "holdout13.yaml", "holdout2.yaml", "x.yaml"):
        (tmp_path / "tests/eval" / name).write_text("[]\n", "utf-8")
    # Retired holdouts (3 to 12) are tuning sets, listed once; only 13 and later are blind.
    assert eval_search.default_sets() == [*tuning, "holdout13.yaml", "holdout14.yaml"]
    assert {"holdout13.yaml", "holdout14.yaml"}.isdisjoint(eval_search.TUNING_SETS)
