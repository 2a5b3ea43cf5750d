"""`make bench`: search latency over the real guide and a synthetic one of 5,000 articles.

Figures are per distinct question (the median of its repeats), so they describe the queries,
not the machine's worst moment. The index scores one slot per article: 5,000 articles in 3
languages are 5,000 scored slots built from 15,000 texts. The synthetic guide is also asked
SYNTHETIC_QUESTIONS distinct questions made of its own words, which do find articles (the real
questions mostly miss its random text).
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from pathlib import Path

import yaml
from record import machine, save_results

from services.knowledge import Article, KnowledgeBase, load_knowledge_base
from services.knowledge.search import SearchIndex, answer_question

ROOT = Path(__file__).resolve().parent.parent
SYNTHETIC_ARTICLES = 5000
REPEATS = 20
SYNTHETIC_REPEATS = 7
SYNTHETIC_QUESTIONS = 500


def per_question_medians(index: SearchIndex, questions: list[str], repeats: int) -> list[float]:
    """Each distinct question timed `repeats` times; its median, so one slow moment is not a
    percentile (a p99 over repeats of a few questions swings with machine load)."""
    timings: dict[str, list[float]] = {question: [] for question in questions}
    for _ in range(repeats):
        for question in questions:
            start = time.perf_counter()
            answer_question(index, question)
            timings[question].append(time.perf_counter() - start)
    return sorted(statistics.median(samples) for samples in timings.values())


def summary(medians: list[float]) -> dict[str, float]:
    """Spread of the per-question medians, in milliseconds."""
    return {
        "distinct_questions": len(medians),
        "p50_ms": round(statistics.median(medians) * 1000, 3),
        "p90_ms": round(medians[int(len(medians) * 0.9)] * 1000, 3),
        "slowest_ms": round(medians[-1] * 1000, 3),
    }


def describe(name: str, figures: dict[str, float], repeats: int) -> str:
    return (
        f"{name}: per-question median over {repeats} runs, across "
        f"{figures['distinct_questions']} distinct questions: p50 {figures['p50_ms']:.3f} ms, "
        f"p90 {figures['p90_ms']:.3f} ms, slowest {figures['slowest_ms']:.3f} ms"
    )


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


def synthetic_questions(base: KnowledgeBase, count: int, rng: random.Random) -> list[str]:
    """Distinct questions of 2-4 words from the titles and keywords of random articles."""
    articles = list(base.articles.values())
    questions: dict[str, None] = {}
    while len(questions) < count:
        article = rng.choice(articles)
        words = [*article.title.split(), *article.keywords]
        questions[" ".join(rng.sample(words, k=rng.randint(2, 4)))] = None
    return list(questions)


def main() -> int:
    started = machine()
    rng = random.Random(2026)
    real = load_knowledge_base(ROOT / "knowledge")
    questions = list(
        dict.fromkeys(
            q["q"] for q in yaml.safe_load((ROOT / "tests/eval/questions.yaml").read_text())
        )
    )
    figures: dict[str, object] = {}
    index = SearchIndex(real)
    per_question_medians(index, questions, 1)  # warm-up
    # The index scores one slot per article, whatever the number of its languages.
    real_guide = {
        "scored_slots": len(real.ids),
        "texts": len(real.articles),
        **summary(per_question_medians(index, questions, REPEATS)),
    }
    figures["real_guide"] = real_guide
    print(
        describe(
            f"real guide ({real_guide['scored_slots']} scored slots from "
            f"{real_guide['texts']} article texts)",
            real_guide,
            REPEATS,
        )
    )

    start = time.perf_counter()
    synthetic = synthetic_base(real, SYNTHETIC_ARTICLES, rng)
    built = time.perf_counter()
    big = SearchIndex(synthetic)
    indexed = time.perf_counter()
    per_question_medians(big, questions, 1)  # warm-up
    synthetic_guide = {
        "scored_slots": len(synthetic.ids),
        "texts": len(synthetic.articles),
        "generated_s": round(built - start, 2),
        "indexed_s": round(indexed - built, 2),
        **summary(per_question_medians(big, questions, SYNTHETIC_REPEATS)),
    }
    figures["synthetic_guide"] = synthetic_guide
    print(
        f"synthetic guide: {SYNTHETIC_ARTICLES} articles in 3 languages = "
        f"{synthetic_guide['scored_slots']} scored slots ({synthetic_guide['texts']} texts); "
        f"generated in {synthetic_guide['generated_s']:.1f} s, "
        f"indexed in {synthetic_guide['indexed_s']:.1f} s"
    )
    print(describe("synthetic guide, real questions", synthetic_guide, SYNTHETIC_REPEATS))
    own = synthetic_questions(synthetic, SYNTHETIC_QUESTIONS, rng)
    own_questions = summary(per_question_medians(big, own, SYNTHETIC_REPEATS))
    own_questions["answered"] = sum(1 for q in own if answer_question(big, q).article_id)
    figures["synthetic_guide_own_questions"] = own_questions
    print(describe("synthetic guide, its own words", own_questions, SYNTHETIC_REPEATS))
    print(f"  of which {own_questions['answered']} answered with one article")
    save_results("search_latency", figures, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
