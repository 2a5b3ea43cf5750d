"""Where an update's time goes: the bench's updates fed through Vyraj's real dispatcher in this
process, replies going over HTTP to the local Bot API server, under cProfile.

    .venv/bin/python bench/dispatch_profile.py help --updates 2000 --top 40

Prints CPU per update (bot and local server together, which `throughput.py` tells apart) and
the functions that cost most, to find what to cut; the ratios to echo come from throughput.py.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

import yaml
from aiogram.types import Update

from bot.app import create_vyraj
from bot.i18n import compile_catalogs
from bot.sandbox.runtime import open_sandbox

ROOT = Path(__file__).resolve().parent.parent
TEXTS = {"help": "/help", "start": "/start"}


async def run(path: str, updates: int, users: int, profiler: cProfile.Profile | None) -> float:
    """Feed `updates` messages of `path` from `users` people; CPU seconds per update."""
    questions = [q["q"] for q in yaml.safe_load((ROOT / "tests/eval/questions.yaml").read_text())]
    with tempfile.TemporaryDirectory() as folder:
        async with open_sandbox(Path(folder) / "vyraj.sqlite3") as sandbox:
            settings = sandbox.settings()
            secret = settings.secret_key.get_secret_value().encode()  # type: ignore[union-attr]
            vyraj = await create_vyraj(settings, secret, sandbox.clock)
            try:
                people = [sandbox.user(language_code="en").user for _ in range(users)]
                bodies = []
                for n in range(updates):
                    person = people[n % users]
                    text = TEXTS.get(path) or questions[n % len(questions)]
                    chat = sandbox.api.private_chat(person)
                    body = sandbox.api.message_update(person, chat, {"text": text})
                    bodies.append({**body, "update_id": n + 1})
                parsed = [Update.model_validate(b, context={"bot": vyraj.bot}) for b in bodies]
                for update in parsed[: min(200, updates)]:  # warm-up, not counted
                    await vyraj.dispatcher.feed_update(vyraj.bot, update)
                started = time.process_time()
                if profiler is not None:
                    profiler.enable()
                for update in parsed:
                    await vyraj.dispatcher.feed_update(vyraj.bot, update)
                if profiler is not None:
                    profiler.disable()
                return (time.process_time() - started) / updates
            finally:
                await vyraj.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("path", choices=["help", "start", "question"])
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--top", type=int, default=0, help="profile; print this many functions")
    args = parser.parse_args(argv)
    compile_catalogs()
    profiler = cProfile.Profile() if args.top else None
    cpu = asyncio.run(run(args.path, args.updates, args.users, profiler))
    print(f"{args.path}: {cpu * 1000:.3f} ms CPU per update (bot and local server)")
    if profiler is not None:
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
