"""`make bench`: Vyraj against a bare aiogram echo bot, over real HTTP, in the same run.

Each bot runs in its own process (`vyraj run`, and bench/echo_bot.py) long-polling its own
local Bot API server in this process. For every hot path the same updates from the same users
are queued for both bots, rounds interleaved A/B (B/A on odd rounds); the figures are the
ratios Vyraj / echo, since wall times on shared machines are noise. Also measured: latency at
a steady rate, resident memory idle and after a burst of new users, and (`--soak`) over a
long run. An update counts as handled when the bot's reply (a sent or edited message) reaches
its chat; the bot's CPU time is read from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from record import machine, save_results

from bot.i18n import compile_catalogs
from bot.sandbox.driver import buttons_of
from bot.sandbox.runtime import local_bot_api
from bot.sandbox.server import ChatEvent, FakeUser, LocalBotApi

ROOT = Path(__file__).resolve().parent.parent
PATHS = ("help", "start", "question", "survey_button")
# Vyraj updates/s divided by echo's, from the performance issue.
TARGETS = {"help": 0.8, "start": 0.8, "question": 0.6, "survey_button": 0.6}
FIRST_USER_ID = 2**33 + 1001
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
BOT_START_TIMEOUT = 60.0


# ---- the bot processes ------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def memory_mib(pid: int) -> tuple[float, float]:
    """Resident memory now and its peak (VmHWM) since the process started, in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


class ReplyClock:
    """Times each queued update until the bot's reply reaches its chat (first in, first out)."""

    def __init__(self) -> None:
        self._waiting: dict[int, deque[float]] = defaultdict(deque)
        self._outstanding = 0
        self._all_done = asyncio.Event()
        self._all_done.set()
        self.latencies: list[float] = []
        self.unexpected = 0  # replies nobody was waiting for: a path costing two messages
        self.last_reply: dict[int, int] = {}  # chat id -> message id

    def expect(self, chat_id: int) -> None:
        self._waiting[chat_id].append(time.perf_counter())
        self._outstanding += 1
        self._all_done.clear()

    def on_event(self, event: ChatEvent) -> None:
        if event.kind == "deleted":
            return
        self.last_reply[event.chat_id] = event.message_id
        queue = self._waiting.get(event.chat_id)
        if not queue:
            self.unexpected += 1
            return
        self.latencies.append(time.perf_counter() - queue.popleft())
        self._outstanding -= 1
        if self._outstanding == 0:
            self._all_done.set()

    async def wait_all(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._all_done.wait(), timeout)
        except TimeoutError:
            missing = self._outstanding
            raise RuntimeError(f"{missing} updates got no reply in {timeout} s") from None


@dataclass
class BotUnderTest:
    """One bot process long-polling its own local server."""

    name: str
    api: LocalBotApi
    process: subprocess.Popen[bytes]
    log_path: Path
    clock: ReplyClock
    users: list[FakeUser] = field(default_factory=list)
    # The question path's senders: people in no dialogue, whose text the guide answers (the
    # survey's users would get "answer with the buttons" instead of a search).
    askers: list[FakeUser] = field(default_factory=list)
    # For the survey path: each user's survey message, and whether it is on question 2.
    survey_messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    on_second_question: dict[int, bool] = field(default_factory=dict)
    pick_data: str = ""
    back_data: str = ""
    # More instances of the same bot behind one webhook URL (bench/backends_throughput.py).
    others: list[tuple[subprocess.Popen[bytes], Path]] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        """CPU time of every instance so far."""
        return sum(cpu_seconds(process.pid) for process, _ in self.instances())

    def instances(self) -> list[tuple[subprocess.Popen[bytes], Path]]:
        return [(self.process, self.log_path), *self.others]

    def any_exited(self) -> bool:
        return any(process.poll() is not None for process, _ in self.instances())

    def check_alive(self) -> None:
        for process, log_path in self.instances():
            if process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{self.name} exited with {process.returncode}:\n{tail}")

    async def deliver(self, bodies: list[tuple[int, dict[str, Any]]], timeout: float) -> None:
        """Queue (chat id, update) pairs at once and wait for every reply."""
        for chat_id, body in bodies:
            self.clock.expect(chat_id)
            await self.api.push_update(body)
        await self.wait(timeout)

    async def wait(self, timeout: float) -> None:
        waiter = asyncio.create_task(self.clock.wait_all(timeout))
        while not waiter.done():
            # Wake now and then to notice a crashed bot instead of waiting out the timeout.
            await asyncio.wait({waiter}, timeout=1.0)
            if not waiter.done() and self.any_exited():
                waiter.cancel()
                self.check_alive()
        try:
            waiter.result()
        except RuntimeError as exc:
            # A press answered with a notice instead of an edit is the usual reason.
            notices = Counter(
                answer["text"]
                for answer in self.api.callback_answers.values()
                if answer.get("text")
            )
            raise RuntimeError(f"{self.name}: {exc}; button notices: {dict(notices)}") from None

    def forget_history(self) -> None:
        """Drop what the server remembers of finished updates, keeping the survey messages."""
        keep = {(m["chat"]["id"], m["message_id"]) for m in self.survey_messages.values()}
        for key in [key for key in self.api.messages if key not in keep]:
            del self.api.messages[key]
            self.api.message_html.pop(key, None)
        self.api.events.clear()
        self.api.calls.clear()
        self.api.callback_answers.clear()
        self.clock.latencies.clear()


@contextlib.asynccontextmanager
async def bot_process(name: str, folder: Path) -> AsyncIterator[BotUnderTest]:
    """Start a bot against a fresh local server; yields once it has replied to a message."""
    api = LocalBotApi()
    clock = ReplyClock()
    api.event_listeners.append(clock.on_event)
    async with local_bot_api(api) as (_, url):
        env = {**os.environ, "BOT_TOKEN": api.token, "TELEGRAM_API_URL": url}
        admin = api.add_user(FIRST_USER_ID - 1, "Admin", "en")
        if name == "vyraj":
            env.update(
                DATABASE_URL=f"sqlite:///{folder / 'vyraj.sqlite3'}",
                SECRET_KEY=secrets.token_hex(32),
                ADMIN_IDS=str(admin.id),
            )
            command = [sys.executable, "-m", "bot", "run"]
        else:
            command = [sys.executable, str(Path(__file__).with_name("echo_bot.py"))]
        log_path = folder / f"{name}.log"
        process = spawn(command, env, folder, log_path)
        bot = BotUnderTest(name, api, process, log_path, clock)
        try:
            chat = api.private_chat(admin)
            first = "/wave open Bench" if name == "vyraj" else "/start"
            await bot.deliver(
                [(chat.id, api.message_update(admin, chat, {"text": first}))], BOT_START_TIMEOUT
            )
            yield bot
        finally:
            await stop_process(process)


def spawn(
    command: list[str], env: dict[str, str], folder: Path, log_path: Path
) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        # cwd: a folder without a .env, so only the settings given here apply.
        return subprocess.Popen(command, env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT)


async def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # aiogram's graceful stop
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)


# ---- the updates ----------------------------------------------------------------------------


def add_users(bot: BotUnderTest, count: int, first_index: int = 0) -> list[FakeUser]:
    """`count` people with large ids (as real ones now are), the same for every bot."""
    return [
        bot.api.add_user(FIRST_USER_ID + 7919 * (first_index + n), "User", "en")
        for n in range(count)
    ]


def message(bot: BotUnderTest, user: FakeUser, text: str) -> tuple[int, dict[str, Any]]:
    chat = bot.api.private_chat(user)
    return chat.id, bot.api.message_update(user, chat, {"text": text})


def mixed_text(n: int, questions: list[str]) -> str:
    """/help, /start and a question in turn: the memory runs' mix."""
    return ("/help", "/start", questions[n % len(questions)])[n % 3]


def survey_press(bot: BotUnderTest, user: FakeUser) -> tuple[int, dict[str, Any]]:
    """The next survey button of `user`: an answer to question 1, or Back from question 2."""
    second = bot.on_second_question.get(user.id, False)
    data = bot.back_data if second else bot.pick_data
    bot.on_second_question[user.id] = not second
    survey_message = bot.survey_messages[user.id]
    _, body = bot.api.callback_update(user, survey_message, data)
    return survey_message["chat"]["id"], body


def updates_for(
    bot: BotUnderTest, path: str, count: int, questions: list[str]
) -> list[tuple[int, dict[str, Any]]]:
    """`count` updates of one path, from its users in turn."""
    users = bot.askers if path == "question" else bot.users
    texts = {"help": "/help", "start": "/start"}
    made = []
    for n in range(count):
        user = users[n % len(users)]
        if path == "survey_button":
            made.append(survey_press(bot, user))
        elif path == "question":
            made.append(message(bot, user, questions[n % len(questions)]))
        else:
            made.append(message(bot, user, texts[path]))
    return made


async def prepare_survey(bot: BotUnderTest, timeout: float) -> None:
    """Bring every user to question 1 of the survey (Vyraj), or give them a message (echo)."""
    opening = "survey" if bot.name.startswith("echo") else "/survey"
    await bot.deliver([message(bot, user, opening) for user in bot.users], timeout)
    for user in bot.users:
        chat_id = bot.api.private_chat(user).id
        bot.survey_messages[user.id] = bot.api.messages[(chat_id, bot.clock.last_reply[chat_id])]
    if bot.name.startswith("echo"):
        bot.pick_data, bot.back_data = "pick", "back"
        return
    agree = next(
        b.callback_data
        for b in buttons_of(bot.survey_messages[bot.users[0].id])
        if b.callback_data and ":agree:" in b.callback_data
    )
    presses = []
    for user in bot.users:
        _, body = bot.api.callback_update(user, bot.survey_messages[user.id], agree)
        presses.append((bot.api.private_chat(user).id, body))
    await bot.deliver(presses, timeout)
    first = bot.users[0]
    bot.pick_data = str(buttons_of(bot.survey_messages[first.id])[1].callback_data)
    # Learn Back's data from question 2, then go back: every user is on question 1.
    bot.back_data = "?"
    await bot.deliver([survey_press(bot, first)], timeout)
    bot.back_data = next(
        str(b.callback_data)
        for b in buttons_of(bot.survey_messages[first.id])
        if b.callback_data and ":back:" in b.callback_data
    )
    await bot.deliver([survey_press(bot, first)], timeout)


# ---- measurements -------------------------------------------------------------------------


@dataclass(frozen=True)
class Throughput:
    updates_per_second: float
    cpu_ms_per_update: float
    # The local server's share (this process), to tell when it, not the bot, is the limit.
    server_cpu_ms_per_update: float


async def measure_throughput(
    bot: BotUnderTest, path: str, count: int, questions: list[str], timeout: float
) -> Throughput:
    bodies = updates_for(bot, path, count, questions)
    cpu_before, server_before = bot.cpu_seconds(), time.process_time()
    started = time.perf_counter()
    await bot.deliver(bodies, timeout)
    elapsed = time.perf_counter() - started
    cpu = bot.cpu_seconds() - cpu_before
    server_cpu = time.process_time() - server_before
    bot.forget_history()
    return Throughput(count / elapsed, cpu / count * 1000, server_cpu / count * 1000)


async def measure_latency(
    bot: BotUnderTest, path: str, rate: float, count: int, questions: list[str], timeout: float
) -> dict[str, float]:
    """Push updates at a steady `rate` per second; p50/p99 from push to reply."""
    bodies = updates_for(bot, path, count, questions)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n, (chat_id, body) in enumerate(bodies):
        # Pacing to a schedule, not waiting for a condition.
        await asyncio.sleep(max(0.0, started + n / rate - loop.time()))
        bot.clock.expect(chat_id)
        await bot.api.push_update(body)
    pushed_in = loop.time() - started
    await bot.wait(timeout)
    latencies = sorted(bot.clock.latencies)
    bot.forget_history()
    return {
        "offered_rate": rate,
        "achieved_rate": round(count / pushed_in, 1),
        "updates": count,
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2),
    }


async def measure_burst(
    bot: BotUnderTest,
    users: int,
    batch: int,
    questions: list[str],
    timeout: float,
) -> None:
    """One message each from `users` people never seen before (/help, /start, a question)."""
    first_index = len(bot.api.users) + 1000
    for start in range(0, users, batch):
        newcomers = add_users(bot, min(batch, users - start), first_index + start)
        bodies = [message(bot, user, mixed_text(n, questions)) for n, user in enumerate(newcomers)]
        await bot.deliver(bodies, timeout)
        bot.forget_history()


def spread(values: list[float]) -> dict[str, float]:
    return {
        "min": round(min(values), 3),
        "median": round(statistics.median(values), 3),
        "max": round(max(values), 3),
    }


# ---- the runs -----------------------------------------------------------------------------


async def run_comparison(args: argparse.Namespace, questions: list[str]) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "parameters": {
            "updates_per_path": args.updates,
            "users": args.users,
            "rounds": args.rounds,
            "paths": args.paths,
            "latency_rates": args.rates,
            "latency_updates": args.latency_updates,
            "burst_users": args.burst_users,
        }
    }
    with tempfile.TemporaryDirectory() as folder:
        async with contextlib.AsyncExitStack() as stack:
            bots = {}
            for name in ("echo", "vyraj"):
                path = Path(folder) / name
                path.mkdir()
                bots[name] = await stack.enter_async_context(bot_process(name, path))
            # Idle: started, and one update handled (how the bench knows it is up).
            idle = {name: memory_mib(bot.pid)[0] for name, bot in bots.items()}
            for bot in bots.values():
                bot.users = add_users(bot, args.users)
                bot.askers = add_users(bot, args.users, first_index=args.users)
                await prepare_survey(bot, args.timeout)
                for path_name in args.paths:  # warm-up, not counted
                    await measure_throughput(
                        bot, path_name, min(args.updates, 200), questions, args.timeout
                    )
            figures["throughput"] = await run_rounds(bots, args, questions)
            figures["latency"] = {}
            for path_name in args.latency_paths:
                for rate in args.rates:
                    key = f"{path_name} at {rate:.0f}/s"
                    figures["latency"][key] = {
                        name: await measure_latency(
                            bot, path_name, rate, args.latency_updates, questions, args.timeout
                        )
                        for name, bot in bots.items()
                    }
                    print_latency(path_name, figures["latency"][key])
            figures["memory"] = {}
            for name, bot in bots.items():
                before = memory_mib(bot.pid)[0]
                await measure_burst(bot, args.burst_users, 500, questions, args.timeout)
                after = memory_mib(bot.pid)[0]
                figures["memory"][name] = {
                    "idle_rss_mib": round(idle[name], 1),
                    "rss_before_burst_mib": round(before, 1),
                    "rss_after_burst_mib": round(after, 1),
                    "burst_growth_mib": round(after - before, 1),
                    "unexpected_replies": bot.clock.unexpected,
                }
            print_memory(figures["memory"], args.burst_users)
    return figures


async def run_rounds(
    bots: dict[str, BotUnderTest], args: argparse.Namespace, questions: list[str]
) -> dict[str, Any]:
    runs: dict[str, dict[str, list[Throughput]]] = {
        path: {name: [] for name in bots} for path in args.paths
    }
    for round_number in range(args.rounds):
        order = list(bots) if round_number % 2 == 0 else list(reversed(bots))
        for path in args.paths:
            for name in order:
                runs[path][name].append(
                    await measure_throughput(
                        bots[name], path, args.updates, questions, args.timeout
                    )
                )
        print(f"round {round_number + 1}/{args.rounds} done")
    results: dict[str, Any] = {}
    print(
        f"\nthroughput: {args.updates} updates from {args.users} users per path and bot, "
        f"{args.rounds} rounds A/B"
    )
    print(
        f"{'path':<14} {'updates/s Vyraj/echo: min / median / max':<40} "
        f"{'CPU/update V/E':<20} target"
    )
    for path in args.paths:
        pairs = list(zip(runs[path]["vyraj"], runs[path]["echo"], strict=True))
        ratios = [v.updates_per_second / e.updates_per_second for v, e in pairs]
        cpu = [v.cpu_ms_per_update / e.cpu_ms_per_update for v, e in pairs]
        results[path] = {
            "rate_ratio": spread(ratios),
            "cpu_ratio": spread(cpu),
            "target_rate_ratio": TARGETS[path],
            "meets_target": statistics.median(ratios) >= TARGETS[path],
            "rounds": {
                name: [
                    {
                        "updates_per_s": round(t.updates_per_second, 1),
                        "cpu_ms_per_update": round(t.cpu_ms_per_update, 3),
                        "server_cpu_ms_per_update": round(t.server_cpu_ms_per_update, 3),
                    }
                    for t in runs[path][name]
                ]
                for name in bots
            },
        }
        r, c = results[path]["rate_ratio"], results[path]["cpu_ratio"]
        rates = {
            name: statistics.median(t.updates_per_second for t in runs[path][name])
            for name in bots
        }
        ratio = f"{r['min']:.2f} / {r['median']:.2f} / {r['max']:.2f}"
        medians = f"({rates['vyraj']:.0f} vs {rates['echo']:.0f}/s)"
        cpu_text = f"{c['median']:.2f}x ({c['min']:.2f}-{c['max']:.2f})"
        print(f"{path:<14} {ratio:<19} {medians:<20} {cpu_text:<20} >= {TARGETS[path]}")
    return results


def print_latency(path: str, figures: dict[str, dict[str, float]]) -> None:
    for name, f in figures.items():
        print(
            f"latency {path} at {f['offered_rate']:.0f}/s (achieved {f['achieved_rate']:.0f}/s), "
            f"{name}: p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms, max {f['max_ms']:.1f} ms"
        )


def print_memory(figures: dict[str, dict[str, float]], burst_users: int) -> None:
    echo_idle = figures["echo"]["idle_rss_mib"]
    for name, f in figures.items():
        print(
            f"memory {name}: idle {f['idle_rss_mib']:.1f} MiB "
            f"({f['idle_rss_mib'] / echo_idle:.2f}x echo idle); "
            f"{burst_users} new users: {f['rss_before_burst_mib']:.1f} -> "
            f"{f['rss_after_burst_mib']:.1f} MiB ({f['burst_growth_mib']:+.1f})"
        )


async def run_soak(args: argparse.Namespace, questions: list[str]) -> dict[str, Any]:
    """RSS at start, peak and end over a long mixed run, one bot at a time."""
    figures: dict[str, Any] = {
        "parameters": {"updates": args.soak_updates, "distinct_users": args.soak_users}
    }
    for name in ("echo", "vyraj"):
        with tempfile.TemporaryDirectory() as folder:
            async with bot_process(name, Path(folder)) as bot:
                start_rss = memory_mib(bot.pid)[0]
                users = add_users(bot, args.soak_users)
                started = time.perf_counter()
                sent = 0
                while sent < args.soak_updates:
                    batch = min(1000, args.soak_updates - sent)
                    bodies = [
                        message(bot, users[(sent + n) % len(users)], mixed_text(n, questions))
                        for n in range(batch)
                    ]
                    await bot.deliver(bodies, args.timeout)
                    bot.forget_history()
                    sent += batch
                end_rss, peak_rss = memory_mib(bot.pid)
                figures[name] = {
                    "rss_start_mib": round(start_rss, 1),
                    "rss_peak_mib": round(peak_rss, 1),
                    "rss_end_mib": round(end_rss, 1),
                    "seconds": round(time.perf_counter() - started, 1),
                    "unexpected_replies": bot.clock.unexpected,
                }
        f = figures[name]
        print(
            f"soak {name}: {args.soak_updates} updates from {args.soak_users} users in "
            f"{f['seconds']:.0f} s; RSS start {f['rss_start_mib']:.1f}, peak "
            f"{f['rss_peak_mib']:.1f}, end {f['rss_end_mib']:.1f} MiB"
        )
    return figures


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--updates", type=int, default=600, help="per path, bot and round")
    parser.add_argument("--users", type=int, default=200, help="distinct users sending them")
    parser.add_argument("--rounds", type=int, default=3, help="A/B rounds")
    parser.add_argument(
        "--paths", nargs="+", choices=PATHS, default=list(PATHS), help="throughput: these only"
    )
    parser.add_argument(
        "--rates", type=float, nargs="+", default=[100.0, 250.0], help="latency: updates/s"
    )
    parser.add_argument("--latency-updates", type=int, default=1000)
    parser.add_argument("--latency-paths", nargs="+", choices=PATHS, default=["question"])
    parser.add_argument("--burst-users", type=int, default=2000, help="memory: new users")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per batch")
    parser.add_argument("--soak", action="store_true", help="only the long memory run")
    parser.add_argument("--soak-updates", type=int, default=100_000)
    parser.add_argument("--soak-users", type=int, default=30_000)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    compile_catalogs()
    questions = [q["q"] for q in yaml.safe_load((ROOT / "tests/eval/questions.yaml").read_text())]
    started = machine()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in started['load_average'])}")
    if args.soak:
        save_results("soak", asyncio.run(run_soak(args, questions)), started)
    else:
        save_results("throughput", asyncio.run(run_comparison(args, questions)), started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
