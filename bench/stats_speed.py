"""`make bench`: /stats, the digest and the storage at 10k, 100k and 1M survey respondents.

A synthetic generator fills a fresh SQLite database with responses drawn from plausible
distributions (most people left, a long tail of countries); the last 2k arrive through the
bot's own `submit_response`, the k-th and 2k-th publishing the wave's snapshot. Then, in the
bot's own code and storage (in process, no HTTP):
- bytes per respondent: page count x page size / respondents, after VACUUM;
- snapshot publication: the 2k-th submission, which counts the answer sets and recomputes;
- /stats: the handler's latency (p50, p99), and its rate with 60 people asking at once;
- another person's /help (their language read from storage, the text rendered) while a
  `/stats full` (rendered anew each time, as after a new snapshot) or a digest is composed,
  against the same probe with nothing else running: how much later it finishes (p99, worst;
  the median of 3 rounds, idle and busy interleaved);
- the digest's compose, chart included.
`--backend postgres` measures the same on a throw-away PostgreSQL cluster (the tests': fsync off,
unix socket), the data loaded with COPY, and prints it beside the SQLite figures last saved.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from pg_cluster import PostgresCluster, find_bindir, throwaway_cluster
from record import RESULTS_DIR, machine, save_results

from bot.app import KNOWLEDGE_DIR
from bot.chart_process import ChartProcess
from bot.digest import DigestService
from bot.i18n import compile_catalogs, create_i18n
from handlers.admin.figures import full_stats_command
from handlers.common.start import help_text
from handlers.survey.stats import stats_command
from services.clock import ManualClock
from services.knowledge.library import KnowledgeLibrary
from services.knowledge.view_counts import ViewCounts
from services.policy import Policy
from services.privacy import Keyring
from services.survey.questions import SKIPPED, Answers, next_unanswered, with_answer
from services.survey.report_cache import forget_full_reports
from services.survey.waves import decode_answers, encode_answers, open_wave, submit_response
from storage import Storage, open_storage

SIZES = (10_000, 100_000, 1_000_000)
K = 10
THIS_YEAR = 2026
NOW = dt.datetime(2026, 11, 30, 9, tzinfo=dt.UTC)
KEYRING = Keyring(b"b" * 32)
STATS_CALLS = 500
CONCURRENT_USERS = 60
PROBE_EVERY = 0.002
PROBE_ROUNDS = 3
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
            # A long tail: options early in the list are far more common (Zipf-like); the
            # years offered depend on the status.
            options = question.options_for(answers, THIS_YEAR)
            pool = question.common or options
            index = min(int(rng.paretovariate(1.2)) - 1, len(options) - 1)
            value = pool[index] if index < len(pool) else options[index]
        answers = with_answer(answers, question.code, value, THIS_YEAR)
    return answers


def draw(
    count: int, distinct_sets: int, rng: random.Random
) -> tuple[list[str], list[int], list[int], list[int]]:
    """Zipf-weighted answer sets: (the sets, their ids, respondents per set, each row's set)."""
    distinct = sorted({encode_answers(synthetic_answers(rng)) for _ in range(distinct_sets)})
    weights = [1 / (rank + 1) for rank in range(len(distinct))]
    chosen = rng.choices(range(len(distinct)), weights=weights, k=count)
    given = [0] * len(distinct)
    for index in chosen:
        given[index] += 1
    ids = [int.from_bytes(os.urandom(8), "big", signed=True) for _ in distinct]
    return distinct, ids, given, chosen


def fill(path: Path, wave_id: int, count: int, distinct_sets: int, rng: random.Random) -> None:
    """`count` responses (already published: unmarked) over Zipf-weighted answer sets."""
    distinct, ids, given, chosen = draw(count, distinct_sets, rng)
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.executemany(
            "INSERT INTO survey_answer_sets (wave_id, id, answers, respondents) "
            "VALUES (?, ?, ?, ?)",
            ((wave_id, ids[i], distinct[i], n) for i, n in enumerate(given) if n),
        )
        db.executemany(
            "INSERT INTO survey_responses (wave_id, respondent, week, answer_set, changed) "
            "VALUES (?, ?, '2026-W48', ?, 0)",
            ((wave_id, os.urandom(32), ids[index]) for index in chosen),
        )
        db.execute("UPDATE survey_waves SET revision = ? WHERE id = ?", (count, wave_id))


async def fill_postgres(
    url: str, wave_id: int, count: int, distinct_sets: int, rng: random.Random
) -> float:
    """The same rows as `fill`, loaded with COPY; then VACUUM ANALYZE (autovacuum's work after a
    real load). Returns the bytes per respondent of the two tables with their indexes."""
    distinct, ids, given, chosen = draw(count, distinct_sets, rng)
    db = await asyncpg.connect(url)
    try:
        async with db.transaction():
            await db.copy_records_to_table(
                "survey_answer_sets",
                columns=["wave_id", "id", "answers", "respondents"],
                records=[(wave_id, ids[i], distinct[i], n) for i, n in enumerate(given) if n],
            )
            await db.copy_records_to_table(
                "survey_responses",
                columns=["wave_id", "respondent", "week", "answer_set", "changed"],
                records=[(wave_id, os.urandom(32), "2026-W48", ids[i], 0) for i in chosen],
            )
            await db.execute("UPDATE survey_waves SET revision = $1 WHERE id = $2", count, wave_id)
        await db.execute("VACUUM ANALYZE")
        size = await db.fetchval(
            "SELECT pg_total_relation_size('survey_responses') "
            "+ pg_total_relation_size('survey_answer_sets')"
        )
    finally:
        await db.close()
    return float(size / count)


def bytes_per_respondent(path: Path, count: int) -> float:
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("VACUUM")
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        size = db.execute("PRAGMA page_size").fetchone()[0]
    return float(pages * size / count)


class Reply:
    """Stands in for the Message a handler answers: records what it would send."""

    def __init__(self) -> None:
        self.sent: list[object] = []

    async def reply(self, text: str, **_: Any) -> None:
        self.sent.append(text)

    async def answer(self, text: str, **_: Any) -> None:
        self.sent.append(text)

    async def answer_document(self, document: object, **_: Any) -> None:
        self.sent.append(document)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def help_probe(storage: Storage, arrived: float) -> float:
    """A /help that arrived at `arrived`: how long until it is answered."""
    await storage.preferences.get_locale("bench-person")
    help_text()
    return time.perf_counter() - arrived


async def probe_during(
    storage: Storage, work: Callable[[], Awaitable[object]] | None
) -> list[float]:
    """A /help every 2 ms while `work` runs (or for 1 s with nothing else running), timed
    from when it was due: a loop held by other work (the GIL, say) answers it later."""
    task = asyncio.create_task(work()) if work else asyncio.create_task(asyncio.sleep(1.0))
    latencies = []
    while not task.done():
        arrived = time.perf_counter() + PROBE_EVERY
        await asyncio.sleep(PROBE_EVERY)
        latencies.append(await help_probe(storage, arrived))
    await task
    return latencies


async def measure(count: int, distinct_sets: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        storage = await open_storage(f"sqlite:///{path}")
        wave = await open_wave(storage, KEYRING, "bench", NOW.date())
        await storage.close()
        started = time.perf_counter()
        fill(path, wave.id, count - 2 * K, distinct_sets, random.Random(count))
        filled = time.perf_counter() - started
        footprint = bytes_per_respondent(path, count - 2 * K)
        storage = await open_storage(f"sqlite:///{path}")
        try:
            return {
                "respondents": count,
                "bytes_per_respondent": round(footprint, 1),
                **await measure_bot(storage, wave, count),
                "fill_s": round(filled, 1),
            }
        finally:
            await storage.close()


async def measure_postgres(
    cluster: PostgresCluster, count: int, distinct_sets: int
) -> dict[str, Any]:
    url = await cluster.fresh_database()
    vault = cluster.folder / "key-vault"  # beside the throw-away cluster, deleted with it
    storage = await open_storage(url, pending_key=b"p" * 32, key_vault=vault)
    try:
        wave = await open_wave(storage, KEYRING, "bench", NOW.date())
    finally:
        await storage.close()
    started = time.perf_counter()
    footprint = await fill_postgres(
        url, wave.id, count - 2 * K, distinct_sets, random.Random(count)
    )
    filled = time.perf_counter() - started
    storage = await open_storage(url, pending_key=b"p" * 32, key_vault=vault)
    try:
        return {
            "respondents": count,
            "bytes_per_respondent": round(footprint, 1),
            **await measure_bot(storage, wave, count),
            "fill_s": round(filled, 1),
        }
    finally:
        await storage.close()


async def measure_bot(storage: Storage, wave: Any, count: int) -> dict[str, Any]:
    charts = ChartProcess()
    try:
        return await measure_with_charts(storage, wave, count, charts)
    finally:
        await charts.close()


async def measure_with_charts(
    storage: Storage, wave: Any, count: int, charts: ChartProcess
) -> dict[str, Any]:
    rng = random.Random(-count)
    policy = Policy(frozenset({1}), K, 30, ZoneInfo("UTC"))
    i18n = create_i18n("en")
    digest = DigestService(
        None, storage, KnowledgeLibrary(KNOWLEDGE_DIR), i18n, k=K, chat_id=None,
        locale="en", schedule="0 9 * * 1", timezone="UTC", grace=dt.timedelta(days=1),
        clock=ManualClock(NOW), charts=charts, view_counts=ViewCounts(storage),
    )  # fmt: skip
    # The first k publish a snapshot (and warm up); the 2k-th publication is measured.
    answers = [decode_answers(encode_answers(synthetic_answers(rng))) for _ in range(2 * K)]
    for user in range(1, 2 * K):
        await submit_response(storage, KEYRING, wave, user, answers[user], NOW.date(), K)
    started = time.perf_counter()
    await submit_response(storage, KEYRING, wave, 2 * K, answers[0], NOW.date(), K)
    publish = time.perf_counter() - started
    snapshot = await storage.survey.snapshot(wave.id)
    assert snapshot is not None
    assert f'"respondents":{count},' in snapshot.figures

    with i18n.context(), i18n.use_locale("en"):
        for _ in range(20):
            await stats_command(Reply(), storage, policy)  # type: ignore[arg-type]
        stats = []
        for _ in range(STATS_CALLS):
            started = time.perf_counter()
            await stats_command(Reply(), storage, policy)  # type: ignore[arg-type]
            stats.append(time.perf_counter() - started)
        started = time.perf_counter()
        await asyncio.gather(
            *(stats_command(Reply(), storage, policy) for _ in range(CONCURRENT_USERS))  # type: ignore[arg-type]
        )
        burst = time.perf_counter() - started

        async def full_stats_repeatedly() -> None:
            for _ in range(20):
                forget_full_reports()  # each one rendered, as after a new snapshot
                await full_stats_command(Reply(), storage, policy)  # type: ignore[arg-type]

        composes: list[float] = []

        async def compose() -> None:
            for _ in range(3):
                started = time.perf_counter()
                composed = await digest.compose(NOW)
                composes.append(time.perf_counter() - started)
                assert composed.chart is not None

        await compose()  # the first chart starts the chart process: not what is measured
        composes.clear()
        # Interleaved rounds, idle / during: on a shared machine one round can be an outlier.
        rounds = []
        for _ in range(PROBE_ROUNDS):
            idle = await probe_during(storage, None)
            during_full = await probe_during(storage, full_stats_repeatedly)
            during_digest = await probe_during(storage, compose)
            rounds.append((idle, during_full, during_digest))

    def slower(which: int) -> dict[str, Any]:
        """The median over the rounds of how much later /help finished than in that round's
        idle probe, at p99 and at worst; and each round's p99."""
        p99s = [(percentile(r[which], 0.99) - percentile(r[0], 0.99)) * 1000 for r in rounds]
        worst = [(max(r[which]) - max(r[0])) * 1000 for r in rounds]
        return {
            "p99_ms": round(statistics.median(p99s), 2),
            "worst_ms": round(statistics.median(worst), 2),
            "p99_ms_per_round": [round(value, 2) for value in p99s],
        }

    idle_p99s = [percentile(r[0], 0.99) for r in rounds]
    return {
        "snapshot_publish_ms": round(publish * 1000, 1),
        "stats_p50_ms": round(statistics.median(stats) * 1000, 3),
        "stats_p99_ms": round(percentile(stats, 0.99) * 1000, 3),
        "stats_per_second_60_at_once": round(CONCURRENT_USERS / burst, 1),
        "help_idle_p99_ms": round(statistics.median(idle_p99s) * 1000, 3),
        "help_slower_during_stats_full": slower(1),
        "help_slower_during_digest": slower(2),
        "digest_compose_ms": round(statistics.median(composes) * 1000, 1),
    }


def print_run(run: dict[str, Any], distinct_sets: int) -> None:
    print(
        f"{run['respondents']:>9,} respondents ({distinct_sets:,} sets drawn): "
        f"{run['bytes_per_respondent']:.0f} B each; publish {run['snapshot_publish_ms']} ms; "
        f"/stats p50 {run['stats_p50_ms']} ms p99 {run['stats_p99_ms']} ms, "
        f"{run['stats_per_second_60_at_once']}/s with 60 at once; /help slower by "
        f"{run['help_slower_during_stats_full']['p99_ms']} ms (p99; rounds "
        f"{run['help_slower_during_stats_full']['p99_ms_per_round']}) during /stats full, "
        f"{run['help_slower_during_digest']['p99_ms']} ms during a digest; "
        f"digest compose {run['digest_compose_ms']} ms"
    )


async def run_postgres(cases: list[tuple[int, int]]) -> list[dict[str, Any]]:
    runs = []
    async with throwaway_cluster() as cluster:
        for count, distinct_sets in cases:
            run = await measure_postgres(cluster, count, distinct_sets)
            runs.append({"distinct_answer_sets_drawn": distinct_sets, **run})
            print_run(run, distinct_sets)
    return runs


SIDE_BY_SIDE = ("bytes_per_respondent", "snapshot_publish_ms", "stats_p50_ms", "stats_p99_ms",
                "stats_per_second_60_at_once", "digest_compose_ms")  # fmt: skip


def print_side_by_side(postgres: list[dict[str, Any]]) -> None:
    """The PostgreSQL figures beside bench/results/stats_speed.json's (SQLite)."""
    saved = RESULTS_DIR / "stats_speed.json"
    if not saved.exists():
        return
    sqlite = {
        (run["respondents"], run["distinct_answer_sets_drawn"]): run
        for run in json.loads(saved.read_text())["figures"]["runs"]
    }
    print("\nSQLite (bench/results/stats_speed.json) / PostgreSQL")
    for run in postgres:
        other = sqlite.get((run["respondents"], run["distinct_answer_sets_drawn"]))
        if other is not None:
            pairs = ", ".join(f"{key} {other[key]} / {run[key]}" for key in SIDE_BY_SIDE)
            print(
                f"{run['respondents']:>9,} ({run['distinct_answer_sets_drawn']:,} sets): {pairs}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", help="respondents (a quick look)")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    started = machine()
    compile_catalogs()
    # Drawn from 5,000 distinct answer sets (Zipf-weighted); the last line is a harsher case.
    cases = [(n, 5_000) for n in SIZES] + [(1_000_000, 100_000)]
    if args.sizes:
        cases = [(n, 5_000) for n in args.sizes]
    if args.backend == "postgres":
        if find_bindir() is None:
            print("stats_speed --backend postgres: skipped, PostgreSQL is not installed")
            return 0
        runs = asyncio.run(run_postgres(cases))
        print_side_by_side(runs)
        if not args.sizes:
            note = "throw-away cluster: fsync=off, synchronous_commit=off, unix socket; COPY load"
            save_results("stats_speed_postgres", {"runs": runs, "postgres": note}, started)
        return 0
    runs = []
    for count, distinct_sets in cases:
        run = asyncio.run(measure(count, distinct_sets))
        runs.append({"distinct_answer_sets_drawn": distinct_sets, **run})
        print_run(run, distinct_sets)
    if not args.sizes:
        save_results("stats_speed", {"runs": runs}, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
