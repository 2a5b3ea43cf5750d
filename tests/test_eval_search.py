"""`make eval` runs the tuning sets, then the blind holdout, last, only when it exists."""

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


def test_the_blind_holdout_is_run_last_and_only_when_present(
    eval_search: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tests/eval").mkdir(parents=True)
    monkeypatch.setattr(eval_search, "ROOT", tmp_path)
    assert eval_search.default_sets() == ["questions.yaml", "holdout.yaml"]
    (tmp_path / "tests/eval/holdout3.yaml").write_text("[]\n", "utf-8")
    assert eval_search.default_sets() == ["questions.yaml", "holdout.yaml", "holdout3.yaml"]
