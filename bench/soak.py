"""`make soak`: Vyraj's resident memory against a bare aiogram echo bot, in the same run.

Each bot (its own process, long-polling its own local Bot API server in this process) is
measured idle (started, one update handled), after a burst of new people whose updates are all
queued before the bot reads them, and over a long run (by default 100,000 updates from 30,000
distinct people, queued 5,000 at a time). Figures: RSS now and the peak (VmHWM) from /proc, in
MiB, and as multiples of the echo bot's idle RSS; with --rounds, each figure is the median.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from record import machine, save_results
from throughput import BotUnderTest, add_users, bot_process, memory_mib, message, mixed_text

from bot.i18n import compile_catalogs

ROOT = Path(__file__).resolve().parent.parent
BOTS = ("echo", "vyraj")


async def queue_and_wait(
    bot: BotUnderTest, people: int, updates: int, first_index: int, questions: list[str]
) -> None:
    """`updates` messages from `people` new people in turn, all queued at once."""
    users = add_users(bot, people, first_index)
    bodies = [message(bot, users[n % people], mixed_text(n, questions)) for n in range(updates)]
    await bot.deliver(bodies, timeout=1800)
    bot.forget_history()


async def measure(name: str, args: argparse.Namespace, questions: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        async with bot_process(name, Path(folder)) as bot:
            idle = memory_mib(bot.pid)[0]
            started = time.perf_counter()
            await queue_and_wait(bot, args.burst_users, args.burst_users, 0, questions)
            after_burst, burst_peak = memory_mib(bot.pid)
            burst_seconds = time.perf_counter() - started
            started = time.perf_counter()
            first = args.burst_users + 1000
            sent = 0
            while sent < args.updates:
                chunk = min(args.chunk, args.updates - sent)
                # The same `users` people come back chunk after chunk, each their own chat.
                people = min(chunk, args.users)
                offset = first + (sent % args.users)
                await queue_and_wait(bot, people, chunk, offset, questions)
                sent += chunk
            end, peak = memory_mib(bot.pid)
            return {
                "idle_rss_mib": round(idle, 1),
                "after_burst_rss_mib": round(after_burst, 1),
                "burst_peak_rss_mib": round(burst_peak, 1),
                "burst_seconds": round(burst_seconds, 1),
                "soak_end_rss_mib": round(end, 1),
                "soak_peak_rss_mib": round(peak, 1),
                "soak_seconds": round(time.perf_counter() - started, 1),
                "unexpected_replies": bot.clock.unexpected,
            }


def median_of(rounds: list[dict[str, Any]], name: str, key: str) -> float:
    return float(statistics.median(round_[name][key] for round_ in rounds))


def report(figures: dict[str, Any], args: argparse.Namespace) -> None:
    echo_idle = figures["echo"]["idle_rss_mib"]
    for name in BOTS:
        f = figures[name]
        f["idle_x_echo_idle"] = round(f["idle_rss_mib"] / echo_idle, 2)
        f["burst_peak_x_echo_idle"] = round(f["burst_peak_rss_mib"] / echo_idle, 2)
        f["soak_peak_x_echo_idle"] = round(f["soak_peak_rss_mib"] / echo_idle, 2)
        print(
            f"{name}: idle {f['idle_rss_mib']:.1f} MiB ({f['idle_x_echo_idle']:.2f}x echo idle); "
            f"burst of {args.burst_users} new people: peak {f['burst_peak_rss_mib']:.1f} MiB "
            f"({f['burst_peak_x_echo_idle']:.2f}x), after {f['after_burst_rss_mib']:.1f} MiB, "
            f"{f['burst_seconds']:.0f} s; soak of {args.updates} updates from {args.users} "
            f"people: start {f['after_burst_rss_mib']:.1f}, peak {f['soak_peak_rss_mib']:.1f} "
            f"({f['soak_peak_x_echo_idle']:.2f}x), end {f['soak_end_rss_mib']:.1f} MiB, "
            f"{f['soak_seconds']:.0f} s"
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--burst-users", type=int, default=20_000, help="new people at once")
    parser.add_argument("--updates", type=int, default=100_000, help="soak: updates")
    parser.add_argument("--users", type=int, default=30_000, help="soak: distinct people")
    parser.add_argument("--chunk", type=int, default=5_000, help="soak: updates queued at once")
    parser.add_argument("--rounds", type=int, default=1, help="both bots this many times")
    parser.add_argument("--results", default="soak", help="bench/results/<this>.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    compile_catalogs()
    questions = [q["q"] for q in yaml.safe_load((ROOT / "tests/eval/questions.yaml").read_text())]
    started = machine()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in started['load_average'])}")
    figures: dict[str, Any] = {
        "parameters": {
            "burst_users": args.burst_users,
            "soak_updates": args.updates,
            "soak_users": args.users,
            "chunk": args.chunk,
            "max_concurrent_updates": os.environ.get("MAX_CONCURRENT_UPDATES", "default"),
        }
    }
    rounds: list[dict[str, Any]] = []
    for _ in range(args.rounds):
        # Interleaved, so a change in the machine's load touches both bots alike.
        rounds.append({name: asyncio.run(measure(name, args, questions)) for name in BOTS})
        report(rounds[-1], args)
    for name in BOTS:
        figures[name] = {key: median_of(rounds, name, key) for key in rounds[0][name]}
    if args.rounds > 1:
        figures["rounds"] = rounds
        print(f"median of {args.rounds} rounds:")
        report(figures, args)
    save_results(args.results, figures, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
