"""`make bench`: the survey's storage on SQLite and on PostgreSQL side by side, in process.

For each backend, a fresh database (PostgreSQL: a throw-away cluster on a unix socket, as in
the tests), then through the bot's own `submit_response` (k = 10, so every tenth change
publishes a snapshot, which on PostgreSQL also writes the pending batch):
- submissions per second, one at a time and 32 at once;
- the live counts read by /stats full and the snapshot (`answer_counts`) and the check made at
  every submission (`changed_respondents`): p50 and p99 with the respondents stored.
The cluster is the tests' (fsync and synchronous_commit off), so its write figures are an upper
bound; SQLite runs as the bot runs it (WAL, synchronous=NORMAL).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pg_cluster import throwaway_cluster
from record import machine, save_results

from services.privacy import Keyring
from services.survey.waves import open_wave, submit_response
from storage import Storage, open_storage

DAY = dt.date(2026, 11, 23)
KEYRING = Keyring(b"b" * 32)
K = 10
SEQUENTIAL = 1000
CONCURRENT = 32
ROUNDS = 30
READS = 300
ROLES = ("qa", "developer", "designer", "manager", "analyst")


def answers(user: int) -> dict[str, str]:
    return {"status": "staying", "role": ROLES[user % len(ROLES)], "seniority": "junior"}


async def timed(step: Callable[[], Awaitable[object]], times: int) -> list[float]:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        await step()
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def percentiles(spent: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(spent, n=100)
    return {"p50_ms": round(cuts[49], 3), "p99_ms": round(cuts[98], 3)}


async def measure(storage: Storage) -> dict[str, Any]:
    wave = await open_wave(storage, KEYRING, "bench", DAY)
    started = time.perf_counter()
    for user in range(SEQUENTIAL):
        await submit_response(storage, KEYRING, wave, user, answers(user), DAY, K)
    sequential = SEQUENTIAL / (time.perf_counter() - started)
    started = time.perf_counter()
    for round_ in range(ROUNDS):
        users = range(SEQUENTIAL + round_ * CONCURRENT, SEQUENTIAL + (round_ + 1) * CONCURRENT)
        await asyncio.gather(
            *(submit_response(storage, KEYRING, wave, u, answers(u), DAY, K) for u in users)
        )
    concurrent = ROUNDS * CONCURRENT / (time.perf_counter() - started)
    counts = await timed(lambda: storage.survey.answer_counts(wave.id), READS)
    changed = await timed(lambda: storage.survey.changed_respondents(wave.id), READS)
    return {
        "respondents": SEQUENTIAL + ROUNDS * CONCURRENT,
        "submits_per_second_one_at_a_time": round(sequential, 1),
        f"submits_per_second_{CONCURRENT}_at_once": round(concurrent, 1),
        "answer_counts": percentiles(counts),
        "changed_respondents": percentiles(changed),
    }


async def main() -> None:
    started = machine()
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        storage = await open_storage(f"sqlite:///{folder}/bench.sqlite3")
        try:
            figures["sqlite"] = await measure(storage)
        finally:
            await storage.close()
    async with throwaway_cluster() as cluster:
        storage = await open_storage(
            await cluster.fresh_database(),
            pending_key=b"p" * 32,
            key_vault=cluster.folder / "key-vault",
        )
        try:
            figures["postgres"] = await measure(storage)
        finally:
            await storage.close()
    figures["postgres_note"] = "throw-away cluster: fsync=off, synchronous_commit=off, unix socket"
    for backend, result in figures.items():
        print(backend, result)
    save_results("storage_backends", figures, started)


if __name__ == "__main__":
    asyncio.run(main())
