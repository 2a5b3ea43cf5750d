"""`make eval`: top-1, top-3, confident-wrong and no-match false answers, per language and kind."""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml
from record import machine, save_results

from services.knowledge import load_knowledge_base
from services.knowledge.search import SearchIndex, answer_question

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Tally:
    """Counts for one group of questions."""

    answerable: int = 0
    top1: int = 0
    top3: int = 0
    confident_wrong: int = 0
    nulls: int = 0
    false_answers: int = 0
    # Answered with the right article alone, not as one of the choices: what the choices
    # offered instead of a confident answer cost.
    single_right: int = 0

    def row(self, name: str) -> str:
        def share(part: int, whole: int) -> str:
            return f"{part / whole:6.1%} ({part:>2}/{whole:<3})" if whole else " " * 15

        cells = (
            share(self.top1, self.answerable),
            share(self.top3, self.answerable),
            share(self.confident_wrong, self.answerable),
            share(self.false_answers, self.nulls),
            share(self.single_right, self.answerable),
        )
        return f"{name:<26}" + " ".join(cells)


def main() -> int:
    started = machine()
    index = SearchIndex(load_knowledge_base(ROOT / "knowledge"))
    figures = {}
    names = [arg for arg in sys.argv[1:] if not arg.startswith("-")]
    for name in names or default_sets():
        blind = name not in TUNING_SETS
        print(f"== tests/eval/{name}" + (" (blind: only reported)" if blind else ""))
        questions = yaml.safe_load((ROOT / "tests/eval" / name).read_text("utf-8"))
        # The blind set's misses are never listed: its questions stay unseen.
        list_misses = "-v" in sys.argv and not blind
        figures[name] = {
            group: asdict(tally)
            for group, tally in evaluate(index, questions, list_misses).items()
        }
    save_results("eval_search", figures, started)
    return 0


# Tuning sets: questions.yaml, and the holdouts retired into tuning once their blind figures
# were reported (v2, then 3 to 12).
TUNING_SETS = (
    "questions.yaml",
    "holdout.yaml",
    "holdout3.yaml",
    "holdout4.yaml",
    "holdout5.yaml",
    "holdout6.yaml",
    "holdout7.yaml",
    "holdout8.yaml",
    "holdout9.yaml",
    "holdout10.yaml",
    "holdout11.yaml",
    "holdout12.yaml",
)
# Holdouts written blind (holdout13.yaml and later) are run only to report, after the tuning sets.
_BLIND_SET = re.compile(r"holdout(\d+)\.yaml")
FIRST_BLIND = 13


def default_sets() -> list[str]:
    """The tuning sets, then every blind holdout that exists, in number order."""
    numbered = (_BLIND_SET.fullmatch(path.name) for path in (ROOT / "tests/eval").iterdir())
    blind = sorted(
        (int(match[1]), match[0]) for match in numbered if match and int(match[1]) >= FIRST_BLIND
    )
    return [*TUNING_SETS, *(name for _, name in blind)]


def evaluate(
    index: SearchIndex, questions: list[dict[str, str | None]], list_misses: bool = False
) -> dict[str, Tally]:
    groups: dict[str, Tally] = defaultdict(Tally)
    misses = []
    for item in questions:
        answer = answer_question(index, str(item["q"]))
        offered = [answer.article_id] if answer.article_id else list(answer.candidates)
        expect = item["expect"]
        tallies = [groups["all"], groups[f"lang {item['lang']}"]]
        tallies.append(groups[f"kind {item.get('kind') or 'untagged'}"])
        for tally in tallies:
            if expect is None:
                tally.nulls += 1
                tally.false_answers += bool(offered)
                continue
            tally.answerable += 1
            # Top-1: the first thing offered (the answer, or the first candidate button) is right.
            tally.top1 += offered[:1] == [expect]
            tally.top3 += expect in offered[:3]
            tally.confident_wrong += answer.article_id not in (None, expect)
            tally.single_right += answer.article_id == expect
        if offered[:1] != ([expect] if expect else []):
            misses.append(f"  {expect or 'null':<28} {item['q']!r} -> {offered}")
    header = "top-1", "top-3", "confident-wrong", "no-match answered", "single answer"
    print(f"{'':<26}" + " ".join(f"{title:<15}" for title in header))
    for name in sorted(groups, key=lambda name: (name != "all", name)):
        print(groups[name].row(name))
    if list_misses:
        print("\n".join(misses))
    return dict(groups)


if __name__ == "__main__":
    raise SystemExit(main())
