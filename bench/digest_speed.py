"""`make bench`: how long computing the digest takes over 10k, 100k and 1M survey responses.

A synthetic generator fills a fresh SQLite database with responses drawn from plausible
distributions (most people left, a long tail of countries), then times the digest's survey
work: counting the answer sets (SQL) and the suppressed aggregates (Python), the same code
the bot runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from record import machine, save_results

from services.privacy import Keyring
from services.survey.questions import SKIPPED, Answers, next_unanswered, with_answer
from services.survey.waves import encode_answers, open_wave, wave_aggregates
from storage import open_storage

SIZES = (10_000, 100_000, 1_000_000)
K = 10
THIS_YEAR = 2026
STATUS_WEIGHTS = {"left_before": 30, "left_after": 35, "planning": 10, "considering": 10,
                  "staying": 10, "returned": 3, SKIPPED: 2}  # fmt: skip


def synthetic_answers(rng: random.Random) -> Answers:
    answers: Answers = {}
    while (question := next_unanswered(answers)) is not None:
        if question.code == "status":
            value: str | tuple[str, ...] = rng.choices(
                list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values())
            )[0]
        elif rng.random() < 0.05:
            value = SKIPPED
        elif question.multiple:
            value = tuple(sorted(set(rng.choices(question.options[:6], k=rng.randint(1, 3)))))
            value = tuple(o for o in question.options if o in value)
        else:
            # A long tail: options early in the list are far more common (Zipf-like).
            pool = question.common or question.options
            index = min(int(rng.paretovariate(1.2)) - 1, len(question.options) - 1)
            value = pool[index] if index < len(pool) else question.options[index]
        answers = with_answer(answers, question.code, value, THIS_YEAR)
    return answers


def fill(path: Path, wave_id: int, count: int, distinct_sets: int, rng: random.Random) -> None:
    distinct = [encode_answers(synthetic_answers(rng)) for _ in range(distinct_sets)]
    weights = [1 / (rank + 1) for rank in range(len(distinct))]
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        rows = (
            (wave_id, os.urandom(32), "2026-W48", answers)
            for answers in rng.choices(distinct, weights=weights, k=count)
        )
        db.executemany(
            "INSERT INTO survey_responses (wave_id, respondent, week, answers) "
            "VALUES (?, ?, ?, ?)",
            rows,
        )


async def measure(count: int, distinct_sets: int) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        storage = await open_storage(f"sqlite:///{path}")
        wave = await open_wave(storage, Keyring(b"b" * 32), "bench", dt.date(2026, 11, 23))
        await storage.close()
        started = time.perf_counter()
        fill(path, wave.id, count, distinct_sets, random.Random(count))
        filled = time.perf_counter() - started
        storage = await open_storage(f"sqlite:///{path}")
        try:
            # Warm the page cache, as a live bot has.
            await wave_aggregates(storage.survey, wave.id, K)
            started = time.perf_counter()
            aggregates = await wave_aggregates(storage.survey, wave.id, K)
            took = time.perf_counter() - started
            groups = len(await storage.survey.response_groups(wave.id))
        finally:
            await storage.close()
        assert aggregates.respondents == count
        return filled, took, groups


def main() -> int:
    started = machine()
    runs = []
    # Drawn from 5,000 distinct answer sets (Zipf-weighted); the last line is a harsher case.
    for count, distinct_sets in [(n, 5_000) for n in SIZES] + [(1_000_000, 100_000)]:
        filled, took, groups = asyncio.run(measure(count, distinct_sets))
        runs.append(
            {
                "responses": count,
                "distinct_answer_sets": groups,
                "digest_ms": round(took * 1000, 1),
                "fill_s": round(filled, 1),
            }
        )
        print(
            f"digest over {count:>9,} responses ({groups:,} distinct answer sets): "
            f"{took * 1000:7.1f} ms (database filled in {filled:.1f} s)"
        )
    save_results("digest_speed", {"runs": runs}, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
