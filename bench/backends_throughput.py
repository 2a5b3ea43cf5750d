"""`make bench`: updates per second for Vyraj on SQLite (one instance) and on PostgreSQL (one
instance, and two sharing Redis), beside the bare echo bot, over real HTTP in the same run.

The harness is bench/throughput.py's: the same updates from the same users for every bot,
rounds interleaved (the order turning each round), an update handled when its reply reaches
its chat. Vyraj runs as `vyraj run` in webhook mode; with two instances the local server
delivers round-robin between them, as a load balancer would. The echo bot runs twice: in
webhook mode (the ratios' reference: the same transport) and long-polling (as throughput.py). A
throw-away PostgreSQL cluster (fsync off, unix socket: the tests') and a redis-server
(persistence off) are started and stopped by the bench.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import yaml
from pg_cluster import find_bindir, throwaway_cluster
from record import machine, save_results
from throughput import (
    BOT_START_TIMEOUT,
    FIRST_USER_ID,
    PATHS,
    BotUnderTest,
    ReplyClock,
    Throughput,
    add_users,
    bot_process,
    measure_throughput,
    prepare_survey,
    spawn,
    spread,
    stop_process,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tests' throw-away servers (tests/ is not installed)

from bot.i18n import compile_catalogs  # noqa: E402
from bot.sandbox.runtime import free_port, local_bot_api  # noqa: E402
from bot.sandbox.server import LocalBotApi  # noqa: E402
from tests.servers.redis import running_redis  # noqa: E402

WEBHOOK_SECRET = "bench-secret"
BASELINES = ("echo", "echo_webhook")
# name -> (backend, instances, shares Redis)
SETUPS = {
    "vyraj_sqlite_1": ("sqlite", 1, False),
    "vyraj_postgres_1": ("postgres", 1, False),
    "vyraj_postgres_2": ("postgres", 2, True),
}


async def wait_listening(port: int, bot: BotUnderTest, timeout: float) -> None:
    """Until an instance accepts connections on `port` (it sets up its site before anything
    else), noticing a crash on the way."""
    deadline = time.monotonic() + timeout
    while True:
        bot.check_alive()
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{bot.name}: nothing listens on port {port}") from None
            await asyncio.sleep(0.05)  # polling a condition: the port is not open yet
            continue
        writer.close()
        await writer.wait_closed()
        return


def vyraj_settings(folder: Path, database_url: str, redis_url: str | None) -> dict[str, str]:
    settings = {"DATABASE_URL": database_url, "SECRET_KEY": secrets.token_hex(32)}
    if database_url.startswith("postgresql://"):
        settings["KEY_VAULT_DIR"] = str(folder / "vault")
    if redis_url is not None:
        settings["REDIS_URL"] = redis_url
    return settings


@contextlib.asynccontextmanager
async def webhook_instances(
    name: str, folder: Path, settings: dict[str, str], instances: int
) -> AsyncIterator[BotUnderTest]:
    """`instances` x the bot (`vyraj run`, or the echo bot for a name "echo...") in webhook mode
    behind one URL (the first one's address), the local server delivering round-robin; yields
    once every one is listening and the first has answered."""
    echo = name.startswith("echo")
    api = LocalBotApi()
    clock = ReplyClock()
    api.event_listeners.append(clock.on_event)
    async with local_bot_api(api) as (_, url):
        admin = api.add_user(FIRST_USER_ID - 1, "Admin", "en")
        ports = [free_port() for _ in range(instances)]
        env_common = {
            **settings,  # the same on every instance
            "BOT_TOKEN": api.token,
            "TELEGRAM_API_URL": url,
            "ADMIN_IDS": str(admin.id),
            "WEBHOOK_URL": f"http://127.0.0.1:{ports[0]}/webhook",
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
        command = (
            [sys.executable, str(Path(__file__).with_name("echo_bot.py"))]
            if echo
            else [sys.executable, "-m", "bot", "run"]
        )
        started: list[tuple[subprocess.Popen[bytes], Path]] = []
        bot: BotUnderTest | None = None
        try:
            for number, port in enumerate(ports):
                place = folder / f"instance{number}"
                place.mkdir()
                env = {
                    **_inherited_env(),
                    **env_common,
                    "WEBHOOK_LISTEN": f"127.0.0.1:{port}",
                    # Each instance its own heartbeat, as each container has in compose.
                    "HEARTBEAT_FILE": str(place / "vyraj.heartbeat"),
                }
                log_path = place / "bot.log"
                started.append((spawn(command, env, place, log_path), log_path))
                if bot is None:
                    bot = BotUnderTest(name, api, started[0][0], log_path, clock)
                else:
                    bot.others.append(started[-1])
                await wait_listening(port, bot, BOT_START_TIMEOUT)
                if number == 0:
                    # Up: it has set the webhook and answers; the wave is open for the survey.
                    chat = api.private_chat(admin)
                    opening = "/start" if echo else "/wave open Bench"
                    first = api.message_update(admin, chat, {"text": opening})
                    await bot.deliver([(chat.id, first)], BOT_START_TIMEOUT)
                else:
                    api.extra_webhook_urls.append(f"http://127.0.0.1:{port}/webhook")
            assert bot is not None
            yield bot
        finally:
            for process, _ in started:
                await stop_process(process)


def _inherited_env() -> dict[str, str]:
    """This process's environment without settings a developer's shell might hold."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "REDIS_"))}


async def run(args: argparse.Namespace, questions: list[str]) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "parameters": {
            "updates_per_path": args.updates,
            "users": args.users,
            "rounds": args.rounds,
            "setups": {
                name: {"backend": b, "instances": n, "redis": r, "mode": "webhook"}
                for name, (b, n, r) in SETUPS.items()
            },
            "echo": "long polling",
            "echo_webhook": "webhook: the ratios' reference, the transport Vyraj uses here",
            "postgres": "throw-away cluster: fsync=off, synchronous_commit=off, unix socket",
        }
    }
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        async with contextlib.AsyncExitStack() as stack:
            cluster = await stack.enter_async_context(throwaway_cluster())
            redis = stack.enter_context(running_redis(folder))
            bots: dict[str, BotUnderTest] = {}
            (folder / "echo").mkdir()
            bots["echo"] = await stack.enter_async_context(bot_process("echo", folder / "echo"))
            (folder / "echo_webhook").mkdir()
            bots["echo_webhook"] = await stack.enter_async_context(
                webhook_instances("echo_webhook", folder / "echo_webhook", {}, 1)
            )
            for name in args.setups:
                backend, instances, shares_redis = SETUPS[name]
                (folder / name).mkdir()
                url = (
                    f"sqlite:///{folder / name / 'vyraj.sqlite3'}"
                    if backend == "sqlite"
                    else await cluster.fresh_database()
                )
                settings = vyraj_settings(folder / name, url, redis.url if shares_redis else None)
                bots[name] = await stack.enter_async_context(
                    webhook_instances(name, folder / name, settings, instances)
                )
            for bot in bots.values():
                bot.users = add_users(bot, args.users)
                bot.askers = add_users(bot, args.users, first_index=args.users)
                await prepare_survey(bot, args.timeout)
                for path in PATHS:  # warm-up, not counted
                    await measure_throughput(
                        bot, path, min(args.updates, 200), questions, args.timeout
                    )
            figures["throughput"] = await run_rounds(bots, args, questions)
            figures["deliveries_per_instance"] = {
                name: _receivers(bot) for name, bot in bots.items() if name.startswith("vyraj")
            }
    return figures


def _receivers(bot: BotUnderTest) -> dict[str, int]:
    counts: dict[str, int] = {}
    for url in bot.api.webhook_receivers:
        counts[url] = counts.get(url, 0) + 1
    return {f"instance {n}": c for n, c in enumerate(counts.values())}


async def run_rounds(
    bots: dict[str, BotUnderTest], args: argparse.Namespace, questions: list[str]
) -> dict[str, Any]:
    names = list(bots)
    runs: dict[str, dict[str, list[Throughput]]] = {
        path: {name: [] for name in names} for path in PATHS
    }
    for round_number in range(args.rounds):
        shift = round_number % len(names)
        order = names[shift:] + names[:shift]
        for path in PATHS:
            for name in order:
                runs[path][name].append(
                    await measure_throughput(
                        bots[name], path, args.updates, questions, args.timeout
                    )
                )
        print(f"round {round_number + 1}/{args.rounds} done")
    print(
        f"\nthroughput: {args.updates} updates from {args.users} users per path and setup, "
        f"{args.rounds} rounds, order turning; median updates/s (median ratio to the webhook "
        f"echo, min-max)"
    )
    print(f"{'path':<14}" + "".join(f"{name:>26}" for name in names))
    results: dict[str, Any] = {}
    for path in PATHS:
        results[path] = {}
        cells = []
        for name in names:
            mine = runs[path][name]
            ratios = {
                baseline: [
                    m.updates_per_second / b.updates_per_second
                    for m, b in zip(mine, runs[path][baseline], strict=True)
                ]
                for baseline in BASELINES
            }
            results[path][name] = {
                "updates_per_s": spread([t.updates_per_second for t in mine]),
                **{f"ratio_to_{b}": spread(r) for b, r in ratios.items()},
                "cpu_ms_per_update": spread([t.cpu_ms_per_update for t in mine]),
                "server_cpu_ms_per_update": spread([t.server_cpu_ms_per_update for t in mine]),
            }
            rate = statistics.median(t.updates_per_second for t in mine)
            ratio = ratios["echo_webhook"]
            low, high = min(ratio), max(ratio)
            cells.append(f"{rate:6.0f} ({statistics.median(ratio):.2f}, {low:.2f}-{high:.2f})")
        print(f"{path:<14}" + "".join(f"{cell:>26}" for cell in cells))
    return results


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--updates", type=int, default=300, help="per path, setup and round")
    parser.add_argument("--users", type=int, default=100, help="distinct users sending them")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per batch")
    parser.add_argument("--setups", nargs="+", choices=list(SETUPS), default=list(SETUPS))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("redis-server") is None or find_bindir() is None:
        print("backends_throughput: skipped, PostgreSQL or redis-server is not installed")
        return 0
    compile_catalogs()
    questions = [q["q"] for q in yaml.safe_load((ROOT / "tests/eval/questions.yaml").read_text())]
    started = machine()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in started['load_average'])}")
    save_results("backends_throughput", asyncio.run(run(args, questions)), started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
