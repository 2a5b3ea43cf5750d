"""The terminal sandbox keeps its session: link buttons, deep links, replies, poll votes,
messages the bot sends unasked, bad gestures, and Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import pty
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.driver import TelegramUser
from bot.sandbox.runtime import Sandbox
from bot.sandbox.terminal import TerminalChat, deep_link_payload, run_terminal

ROOT = Path(__file__).resolve().parent.parent


async def transcript(*lines: str, database: Path | None = None) -> str:
    out = io.StringIO()
    assert await run_terminal(lines, database=database, out=out, echo=True) == 0
    return out.getvalue()


def after(text: str, line: str) -> str:
    """The transcript from the echo of `line` to the next echoed line."""
    rest = text.split(f"> {line}\n", 1)[1]
    return rest.split("\n> ", 1)[0]


async def test_a_link_button_shows_its_link_and_a_deep_link_starts_the_survey() -> None:
    text = await transcript(
        "!lang en",
        "/wave open Spring 2027",
        "!group",
        "/survey@vyraj_bot",
        "1",
        "/help",
    )
    pressed = after(text, "1")
    assert "(the button opens https://t.me/vyraj_bot?start=survey)" in pressed
    assert "(you are in your private chat with the bot)" in pressed
    assert "I agree" in pressed  # the survey's consent screen, in the private chat
    assert "What I understand" in after(text, "/help")  # the session went on, privately


def test_deep_links_are_links_to_this_bot_with_a_start_payload() -> None:
    assert deep_link_payload("https://t.me/Vyraj_Bot?start=survey", "vyraj_bot") == "survey"
    assert deep_link_payload("https://t.me/other_bot?start=survey", "vyraj_bot") is None
    assert deep_link_payload("https://t.me/vyraj_bot", "vyraj_bot") is None
    assert deep_link_payload("https://example.org/vyraj_bot?start=x", "vyraj_bot") is None


async def test_native_poll_votes_reach_the_stored_tally_and_closepoll_by_reply_closes_it(
    tmp_path: Path,
) -> None:
    voters = [line for n in range(10) for line in (f"!user Voter{n}", "!vote 1")]
    database = tmp_path / "kept.sqlite3"
    text = await transcript(
        "!lang en",
        "!group",
        "/poll@vyraj_bot Where do you live? | Poland | Georgia",
        *voters,
        "!user Voter0",
        "!vote 2",
        "!vote 1 2",
        "!vote 3",
        "!user Alesia",
        "!reply 2 /closepoll@vyraj_bot",
        "!vote 2",
        database=database,
    )
    assert "bot #2: [poll] Where do you live?" in text
    assert after(text, "!vote 1").strip() == "(you voted for Poland in poll #2)"
    assert "(you have already voted in this poll)" in after(text, "!vote 2")
    assert text.endswith("> !vote 2\n(the polls in this chat are closed)\n")
    assert "(this poll allows only one answer)" in after(text, "!vote 1 2")
    assert "(no such option in the poll)" in after(text, "!vote 3")
    with contextlib.closing(sqlite3.connect(database)) as db:
        assert db.execute("SELECT tallies FROM polls").fetchall() == [("[10, 0]",)]
    closed = after(text, "!reply 2 /closepoll@vyraj_bot")
    assert "1) Poland: 10  2) Georgia: 0\n     (closed)" in closed
    assert "Results: Where do you live?" in closed
    assert "Poland: 10 (100%)" in closed


async def test_a_new_wave_notice_prints_for_the_subscriber_labelled() -> None:
    text = await transcript(
        "!lang en",
        "!user Bob",
        "/notify",
        "1",
        "!user Alesia",
        "/wave open Spring 2027",
    )
    opened = after(text, "/wave open Spring 2027")
    assert "Telling 1 subscriber about it." in opened
    assert "[to Bob] bot #3: 📋 A new Vyraj survey wave is open: Spring 2027." in opened


async def test_messages_sent_unasked_print_while_nobody_types(running: Sandbox) -> None:
    printed: list[str] = []
    prompts: list[str] = []
    both_printed = asyncio.Event()

    def out(line: str) -> None:
        printed.append(line)
        if any("closed on its own" in p for p in printed) and any("wave" in p for p in printed):
            both_printed.set()

    chat = TerminalChat(running, out)
    bob = chat.people["Bob"] = running.user("Bob")
    watcher = asyncio.create_task(chat.print_unasked(lambda: prompts.append("you> ")))
    try:
        assert running.bot is not None
        bot = running.bot.vyraj.bot
        await bot.send_message(chat.current.chat.id, "A poll closed on its own")
        await bot.send_message(bob.chat.id, "A new wave is open")
        await asyncio.wait_for(both_printed.wait(), 10)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    assert "bot #1: A poll closed on its own" in printed
    assert "[to Bob] bot #1: A new wave is open" in printed
    assert prompts  # the prompt comes back after what was printed


async def test_bad_gestures_and_failing_lines_do_not_end_the_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    send = TelegramUser.send

    async def send_or_fail(self: TelegramUser, text: str, **kwargs: Any) -> list[dict[str, Any]]:
        if text == "explode":
            raise RuntimeError("the driver broke")
        return await send(self, text, **kwargs)

    monkeypatch.setattr(TelegramUser, "send", send_or_fail)
    text = await transcript(
        "!lang en",
        "/start",
        "42",
        "!vote 1",
        "!reply 99 hello",
        "!reply",
        "!nonsense",
        "explode",
        "/help",
    )
    assert "(no button number 42)" in after(text, "42")
    assert "(there is no poll in this chat to vote in)" in after(text, "!vote 1")
    assert "(there is no message #99 in this chat)" in after(text, "!reply 99 hello")
    assert "(write the reply: !reply TEXT" in after(text, "!reply")
    assert "!vote N [M ...]" in after(text, "!nonsense")
    assert after(text, "explode").strip() == "(that line failed: RuntimeError: the driver broke)"
    assert "What I understand" in after(text, "/help")


async def test_interactive_mode_reads_lines_until_end_of_input() -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"!lang en\n/start\n")
    os.close(write_end)
    out = io.StringIO()
    try:
        assert await run_terminal(None, database=None, out=out, input_fd=read_end) == 0
    finally:
        os.close(read_end)
    text = out.getvalue()
    assert text.count("you> ") == 3
    assert "bot #2: 👋 Hello! I am Vyraj" in text


def read_until(fd: int, marker: str, seen: bytearray, start: int = 0) -> int:
    """Read `fd` into `seen` until `marker` shows up after `start`; where it ends."""
    deadline = time.monotonic() + 60
    while (found := seen.find(marker.encode(), start)) < 0:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"{marker!r} did not appear in {seen.decode(errors='replace')!r}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 4096)
            assert chunk, f"output ended before {marker!r}: {seen.decode(errors='replace')!r}"
            seen += chunk
    return found + len(marker.encode())


def test_ctrl_c_ends_the_sandbox_cleanly(tmp_path: Path) -> None:
    terminal, keyboard = pty.openpty()  # stdin is a terminal: the interactive mode
    # faulthandler dumps every thread's stack on SIGABRT: a hang at exit says where it hangs.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONFAULTHANDLER": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--db", "kept.sqlite3"],
        stdin=keyboard,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=env,
    )
    os.close(keyboard)
    try:
        assert process.stdout is not None
        stdout = process.stdout.fileno()
        seen = bytearray()
        read_until(stdout, "you> ", seen)
        os.write(terminal, b"/start\n")
        replied = read_until(stdout, "bot #2:", seen)
        read_until(stdout, "you> ", seen, replied)  # waiting for the next line
        process.send_signal(signal.SIGINT)
        try:
            _, errors = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)
            _, errors = process.communicate(timeout=10)
            pytest.fail(f"no exit within 60 s of Ctrl-C; its threads:\n{errors.decode()}")
    finally:
        os.close(terminal)
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, errors.decode()
    assert "Traceback" not in errors.decode()
    assert (tmp_path / "kept.sqlite3").exists()
    # SQLite removes the write-ahead log when the last connection closes cleanly.
    assert not (tmp_path / "kept.sqlite3-wal").exists()


async def test_fault_rules_can_be_shown_from_the_terminal() -> None:
    text = await transcript(
        "!lang en",
        "!fault 502 sendMessage",
        "/help",
        "/help",
        "!fault drop",
        "/help",
        "!fault 503",
    )
    assert "(the next 1 call(s) of sendMessage will get: 502)" in text
    # The proxy's page reaches the bot as a non-JSON reply: it apologises, and goes on.
    first, second = text.split("> /help\n")[1:3]
    assert "Sorry, something went wrong" in first
    assert "What I understand" in second
    assert "(the next 1 call(s) of any method will get: drop)" in text
    assert "!fault 429|500|502|drop|slow" in after(text, "!fault 503")
