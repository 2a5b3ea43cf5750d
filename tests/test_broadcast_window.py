"""The new-wave broadcast against the local Bot API server: at most 25 sends in any one-second
window as the server records them; a graceful stop loses nobody, a kill -9 at most one person,
and nobody is ever messaged twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bot.sandbox.driver import TelegramUser
from bot.sandbox.runtime import Sandbox
from services.survey.subscriptions import subscribe

ROOT = Path(__file__).resolve().parent.parent
NOTICE = "/notify"  # every new-wave message ends with how to stop them
K = 5


async def start_with_subscribers(sandbox: Sandbox, count: int) -> tuple[TelegramUser, list[int]]:
    """The bot running with an admin and `count` subscribers (straight into the database)."""
    admin = sandbox.user("Admin", language_code="en")
    await sandbox.start_bot(admin_ids=str(admin.user.id), min_cell_size=K)
    assert sandbox.bot is not None
    vyraj = sandbox.bot.vyraj
    people = [sandbox.user(f"S{i}", language_code="en").user.id for i in range(count)]
    for user_id in people:
        await subscribe(vyraj.storage, vyraj.keyring, user_id, "en")
    return admin, people


def notices(sandbox: Sandbox) -> list[Any]:
    return [
        call
        for call in sandbox.api.calls
        if call.method == "sendMessage" and NOTICE in str(call.params.get("text"))
    ]


def delivered(sandbox: Sandbox) -> Counter[int]:
    return Counter(int(call.params["chat_id"]) for call in notices(sandbox) if call.status == 200)


def most_in_one_second(times: list[float]) -> int:
    """The largest number of `times` inside any window [t, t + 1s)."""
    times = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


async def finish_after_restart(sandbox: Sandbox, admin: TelegramUser) -> None:
    """Start the bot again: it carries on with the open wave's broadcast; wait for the end."""
    await sandbox.start_bot(admin_ids=str(admin.user.id), min_cell_size=K)
    assert sandbox.bot is not None
    await sandbox.bot.vyraj.broadcaster.wait()


def test_the_window_counter_counts_what_it_should() -> None:
    assert most_in_one_second([0.0, 0.5, 0.99, 1.0, 1.5]) == 3
    assert most_in_one_second([i * 0.0625 for i in range(40)]) == 16  # exact binary steps


async def test_no_one_second_window_at_the_server_holds_more_than_25_sends(
    sandbox: Sandbox,
) -> None:
    admin, people = await start_with_subscribers(sandbox, 80)
    # A 429 midway: the retry is a send too, and counts in its window.
    sandbox.api.fail_next("sendMessage", status=429, retry_after=1, chat_id=people[30])
    await admin.send("/wave open winter")
    assert sandbox.bot is not None
    assert await sandbox.bot.vyraj.broadcaster.wait() == 80
    calls = notices(sandbox)
    assert len(calls) == 81
    assert most_in_one_second([call.at for call in calls]) <= 25
    assert set(delivered(sandbox).values()) == {1}


async def test_a_stop_while_waiting_out_a_429_loses_nobody(sandbox: Sandbox) -> None:
    admin, people = await start_with_subscribers(sandbox, 12)
    sandbox.api.fail_next("sendMessage", status=429, retry_after=30, chat_id=people[0])
    await admin.send("/wave open winter")
    await sandbox.api.wait_until(lambda: any(call.status == 429 for call in notices(sandbox)))
    await sandbox.stop_bot()  # the broadcast is cancelled in its 30-second wait
    await finish_after_restart(sandbox, admin)
    assert delivered(sandbox) == Counter(people)


async def test_a_stop_during_a_slow_send_finishes_that_send_and_loses_nobody(
    sandbox: Sandbox,
) -> None:
    admin, people = await start_with_subscribers(sandbox, 12)
    await admin.send("/wave open winter")
    await sandbox.api.wait_until(lambda: len(delivered(sandbox)) >= 3)
    sandbox.api.slow_next("sendMessage", seconds=1.0)
    in_flight = len(sandbox.api.calls)
    await sandbox.api.wait_until(
        lambda: any(call.method == "sendMessage" for call in sandbox.api.calls[in_flight:])
    )
    await sandbox.stop_bot()  # cancelled while the server holds the send
    await finish_after_restart(sandbox, admin)
    assert delivered(sandbox) == Counter(people)


async def run_as_process(sandbox: Sandbox, admin: TelegramUser) -> asyncio.subprocess.Process:
    """`vyraj run` on the sandbox's database, in its own process."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": sandbox.api.token,
        "TELEGRAM_API_URL": sandbox.api_url,
        "DATABASE_URL": f"sqlite:///{sandbox.database_path}",
        "SECRET_KEY": sandbox.secret_key,
        "ADMIN_IDS": str(admin.user.id),
        "MIN_CELL_SIZE": str(K),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=sandbox.database_path.parent,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def interrupt_a_broadcast(sandbox: Sandbox, signum: int) -> tuple[TelegramUser, list[int]]:
    """Open a wave in a `vyraj run` process and send it `signum` mid-broadcast."""
    admin, people = await start_with_subscribers(sandbox, 40)
    await sandbox.stop_bot()
    process = await run_as_process(sandbox, admin)
    try:
        await sandbox.api.push_update(
            sandbox.api.message_update(admin.user, admin.chat, {"text": "/wave open winter"})
        )
        await sandbox.api.wait_until(lambda: len(delivered(sandbox)) >= 10, timeout=60)
    finally:
        process.send_signal(signum)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    if signum == signal.SIGTERM:
        assert process.returncode == 0, stderr.decode()
    assert len(delivered(sandbox)) < len(people)  # it was indeed cut short
    return admin, people


async def test_sigterm_mid_broadcast_loses_nobody_and_repeats_nobody(sandbox: Sandbox) -> None:
    admin, people = await interrupt_a_broadcast(sandbox, signal.SIGTERM)
    await finish_after_restart(sandbox, admin)
    assert delivered(sandbox) == Counter(people)


async def test_kill_9_mid_broadcast_skips_at_most_one_and_repeats_nobody(
    sandbox: Sandbox,
) -> None:
    admin, people = await interrupt_a_broadcast(sandbox, signal.SIGKILL)
    await finish_after_restart(sandbox, admin)
    told = delivered(sandbox)
    assert set(told.values()) == {1}
    assert set(told) <= set(people)
    assert len(people) - len(told) <= 1
