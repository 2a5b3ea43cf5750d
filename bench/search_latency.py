"""`make bench`: search latency over the real guide and a synthetic 5,000 x 3 one."""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from pathlib import Path

import yaml

from services.knowledge import Article, KnowledgeBase, load_knowledge_base
from services.knowledge.search import SearchIndex, answer_question

ROOT = Path(__file__).resolve().parent.parent


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {p50 * 1000:.3f} ms, p99 {p99 * 1000:.3f} ms over {len(ordered)} queries"


def measure(index: SearchIndex, questions: list[str]) -> list[float]:
    timings = []
    for question in questions:
        start = time.perf_counter()
        answer_question(index, question)
        timings.append(time.perf_counter() - start)
    return timings


def synthetic_base(real: KnowledgeBase, articles: int, rng: random.Random) -> KnowledgeBase:
    words = sorted({w for a in real.articles.values() for w in (a.title + " " + a.body).split()})
    made: dict[tuple[str, str], Article] = {}
    for n in range(articles):
        for language in ("be", "ru", "en"):
            body = " ".join(rng.choices(words, k=220))
            made[(f"pl-syn{n}", language)] = Article(
                id=f"pl-syn{n}",
                country="pl",
                language=language,
                title=" ".join(rng.choices(words, k=6)),
                keywords=tuple(rng.choices(words, k=8)),
                sources=("https://example.org",),
                verified=dt.date(2026, 1, 1),
                related=(),
                body=body,
                path=Path(f"synthetic/{n}.{language}.md"),
            )
    return KnowledgeBase(made)


def main() -> int:
    rng = random.Random(2026)
    real = load_knowledge_base(ROOT / "knowledge")
    questions = [q["q"] for q in yaml.safe_load((ROOT / "tests/eval/questions.yaml").read_text())]
    index = SearchIndex(real)
    measure(index, questions)  # warm-up
    real_timings = measure(index, questions * 20)
    print(f"real guide ({len(real.ids)} articles x 3 locales): {percentiles(real_timings)}")

    start = time.perf_counter()
    synthetic = synthetic_base(real, 5000, rng)
    built = time.perf_counter()
    big = SearchIndex(synthetic)
    indexed = time.perf_counter()
    print(
        f"synthetic guide (5000 articles x 3 locales): generated in {built - start:.1f} s, "
        f"indexed in {indexed - built:.1f} s"
    )
    measure(big, questions)
    print(f"synthetic guide: {percentiles(measure(big, questions * 5))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
