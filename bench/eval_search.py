"""`make eval`: top-1 / top-3 accuracy and wrong answers to no-match questions."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from record import machine, save_results

from services.knowledge import load_knowledge_base
from services.knowledge.search import SearchIndex, answer_question

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    started = machine()
    index = SearchIndex(load_knowledge_base(ROOT / "knowledge"))
    figures = {}
    # questions.yaml is the tuning set; holdout.yaml was written blind, without the search code.
    for name in ("questions.yaml", "holdout.yaml"):
        print(f"== tests/eval/{name}")
        questions = yaml.safe_load((ROOT / "tests/eval" / name).read_text("utf-8"))
        figures[name] = evaluate(index, questions)
    save_results("eval_search", figures, started)
    return 0


def evaluate(index: SearchIndex, questions: list[dict[str, str | None]]) -> dict[str, float]:
    top1 = top3 = answerable = wrong_null = nulls = 0
    misses = []
    for item in questions:
        answer = answer_question(index, item["q"])
        offered = [answer.article_id] if answer.article_id else list(answer.candidates)
        if item["expect"] is None:
            nulls += 1
            if offered:
                wrong_null += 1
                misses.append(f"  null  {item['q']!r} -> {offered}")
            continue
        answerable += 1
        # Top-1: the first thing offered (the answer, or the first candidate button) is right.
        if offered[:1] == [item["expect"]]:
            top1 += 1
        if item["expect"] in offered[:3]:
            top3 += 1
        if offered[:1] != [item["expect"]]:
            misses.append(f"  {item['expect']:<28} {item['q']!r} -> {offered}")
    print(f"questions: {len(questions)} ({answerable} answerable, {nulls} no-match)")
    print(f"top-1 accuracy: {top1 / answerable:.1%}")
    print(f"top-3 accuracy: {top3 / answerable:.1%}")
    print(f"wrong answers to no-match questions: {wrong_null / nulls:.1%}")
    if "-v" in sys.argv:
        print("\n".join(misses))
    return {
        "questions": len(questions),
        "top1": round(top1 / answerable, 4),
        "top3": round(top3 / answerable, 4),
        "wrong_no_match": round(wrong_null / nulls, 4),
    }


if __name__ == "__main__":
    raise SystemExit(main())
