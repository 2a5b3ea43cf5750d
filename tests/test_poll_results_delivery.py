"""A closed poll's results are posted once: through 500s, a proxy's 502 page, a 429 on the
edit, a crash between the close and the post (sent at the next start), and never twice."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

from bot.poll_results import ResultsCourier
from bot.sandbox.driver import TelegramUser
from bot.sandbox.runtime import Sandbox
from bot.sandbox.server import FakeChat
from services.clock import ManualClock
from services.polls.closing import close_poll
from storage import open_storage

K = 5
RESULTS = "📊 Results:"
ROOT = Path(__file__).resolve().parent.parent


def db_rows(sandbox: Sandbox, sql: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(sandbox.database_path)) as db:
        return db.execute(sql).fetchall()


def results_posted(sandbox: Sandbox, chat: FakeChat) -> list[dict[str, Any]]:
    return [
        message
        for (chat_id, _), message in sorted(sandbox.api.messages.items())
        if chat_id == chat.id
        and str(message.get("text") or message.get("caption") or "").startswith(RESULTS)
    ]


def calls_of(sandbox: Sandbox, method: str, chat: FakeChat) -> int:
    return sum(
        1
        for call in sandbox.api.calls
        if call.method == method and str(call.params.get("chat_id")) == str(chat.id)
    )


async def census_with_votes(
    sandbox: Sandbox, options: str = "Yes | No"
) -> tuple[TelegramUser, FakeChat, dict[str, Any]]:
    await sandbox.start_bot(min_cell_size=K, census_refresh_seconds=0.05)
    admin = sandbox.user("Admin", language_code="en")
    group = await sandbox.group("Belarusians in Vilnius", added_by=admin)
    admin = admin.in_chat(group)
    await admin.send(f"/poll census Relocated? | {options}")
    census = admin.last_message
    assert census is not None
    for index in range(K + 1):
        voter = sandbox.user(f"V{index}", language_code="en").in_chat(group)
        await voter.click(1, census)
    return admin, group, census


async def test_a_500_on_the_results_post_is_retried_and_they_appear_once(
    sandbox: Sandbox,
) -> None:
    admin, group, census = await census_with_votes(sandbox)
    sandbox.api.fail_next("sendMessage", status=500, count=2, chat_id=group.id)
    await admin.send("/closepoll", reply_to=census)
    (results,) = results_posted(sandbox, group)
    assert "• Yes: 6" in results["text"]
    assert calls_of(sandbox, "sendMessage", group) >= 3
    assert db_rows(sandbox, "SELECT stage, results_message_id FROM poll_outbox") == [
        ("posted", results["message_id"])
    ]


async def test_a_proxys_502_page_on_the_chart_is_retried(sandbox: Sandbox) -> None:
    admin, group, census = await census_with_votes(sandbox, "Poland | Georgia | Serbia")
    sandbox.api.fail_next("sendPhoto", status=502, reply="html", chat_id=group.id)
    sandbox.api.fail_next("sendPhoto", status=502, reply="drop", chat_id=group.id)
    await admin.send("/closepoll", reply_to=census)
    (results,) = results_posted(sandbox, group)
    assert "photo" in results
    assert "• Poland: 6" in results["caption"]


async def test_a_429_on_the_edit_is_waited_out(sandbox: Sandbox) -> None:
    admin, group, census = await census_with_votes(sandbox)
    sandbox.api.fail_next("editMessageText", status=429, retry_after=1, chat_id=group.id)
    await admin.send("/closepoll", reply_to=census)
    assert "This poll is closed." in census["text"]
    assert "reply_markup" not in census
    assert len(results_posted(sandbox, group)) == 1


async def test_a_refusal_for_good_is_logged_once_and_not_retried(
    sandbox: Sandbox, captured_logs: io.StringIO
) -> None:
    admin, group, census = await census_with_votes(sandbox)
    sandbox.api.fail_next(
        "sendMessage", status=403, description="Forbidden: not enough rights", chat_id=group.id
    )
    before = calls_of(sandbox, "sendMessage", group)
    await admin.send("/closepoll", reply_to=census)
    assert calls_of(sandbox, "sendMessage", group) == before + 1
    assert results_posted(sandbox, group) == []
    assert db_rows(sandbox, "SELECT stage FROM poll_outbox") == [("refused",)]
    assert "Telegram refused its results: Forbidden: not enough rights" in (
        captured_logs.getvalue()
    )


async def test_a_crash_between_close_and_post_posts_them_at_the_next_start_once(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    _admin, group, _census = await census_with_votes(sandbox)
    await sandbox.stop_bot()
    # What a kill -9 right after the close's commit leaves: closed, key gone, results queued.
    storage = await open_storage(f"sqlite:///{sandbox.database_path}")
    try:
        assert await close_poll(storage, 1, clock.now(), "bot") is not None
    finally:
        await storage.close()
    assert db_rows(sandbox, "SELECT voter_key_sealed FROM polls") == [(None,)]
    assert results_posted(sandbox, group) == []
    await sandbox.start_bot(min_cell_size=K)
    await sandbox.api.wait_until(lambda: len(results_posted(sandbox, group)) == 1)
    assert sandbox.bot is not None
    await sandbox.bot.vyraj.poll_actions.results_settled()
    assert db_rows(sandbox, "SELECT stage FROM poll_outbox") == [("posted",)]
    # Another restart finds nothing due: never twice.
    await sandbox.stop_bot()
    await sandbox.start_bot(min_cell_size=K)
    assert sandbox.bot is not None
    await sandbox.bot.vyraj.poll_actions.results_settled()
    assert len(results_posted(sandbox, group)) == 1


async def test_closing_twice_posts_the_results_once(sandbox: Sandbox) -> None:
    admin, group, census = await census_with_votes(sandbox)
    await admin.send("/closepoll", reply_to=census)
    await admin.send("/closepoll", reply_to=census)
    assert "not an open poll of mine" in admin.last_text
    assert sandbox.bot is not None
    assert not await sandbox.bot.vyraj.poll_actions.close(1)
    assert len(results_posted(sandbox, group)) == 1


async def test_deliveries_that_overlap_post_the_results_once(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    _admin, group, _census = await census_with_votes(sandbox)
    assert sandbox.bot is not None
    vyraj = sandbox.bot.vyraj
    assert await close_poll(vyraj.storage, 1, clock.now(), "bot") is not None
    sandbox.api.slow_next("sendMessage", seconds=0.3)  # the first post is still under way
    await asyncio.gather(*(vyraj.poll_actions.post_due_results() for _ in range(3)))
    await vyraj.poll_actions.results_settled()
    assert len(results_posted(sandbox, group)) == 1
    assert db_rows(sandbox, "SELECT stage FROM poll_outbox") == [("posted",)]


async def test_results_still_failing_after_a_round_are_retried_in_the_background(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    _admin, group, _census = await census_with_votes(sandbox)
    assert sandbox.bot is not None
    vyraj = sandbox.bot.vyraj
    assert await close_poll(vyraj.storage, 1, clock.now(), "bot") is not None
    courier = ResultsCourier(
        vyraj.bot, vyraj.storage, vyraj.keyring, vyraj.i18n, K, vyraj.charts,
        attempts=2, first_delay=0.01, round_delay=0.05,
    )  # fmt: skip
    sandbox.api.fail_next("sendMessage", status=502, count=5, chat_id=group.id)
    assert await courier.deliver() == 1  # two tries failed: it waits for the next round
    assert results_posted(sandbox, group) == []
    await courier.settled()
    assert len(results_posted(sandbox, group)) == 1
    assert calls_of(sandbox, "sendMessage", group) >= 6
    assert db_rows(sandbox, "SELECT stage FROM poll_outbox") == [("posted",)]


async def test_a_deleted_poll_message_still_gets_its_results(sandbox: Sandbox) -> None:
    admin, group, census = await census_with_votes(sandbox)
    sandbox.api.fail_next(
        "editMessageText", status=400, retry_after=None,
        description="Bad Request: message to edit not found", chat_id=group.id,
    )  # fmt: skip
    await admin.send("/closepoll", reply_to=census)
    assert len(results_posted(sandbox, group)) == 1
    assert db_rows(sandbox, "SELECT stage FROM poll_outbox") == [("posted",)]


async def test_a_kill_9_mid_close_posts_the_results_at_the_next_start_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    admin, group, census = await census_with_votes(sandbox)
    await sandbox.stop_bot()
    api = sandbox.api
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": api.token,
        "TELEGRAM_API_URL": sandbox.api_url,
        "DATABASE_URL": f"sqlite:///{sandbox.database_path}",
        "SECRET_KEY": sandbox.secret_key,
        "MIN_CELL_SIZE": str(K),
        "DEFAULT_LOCALE": "be",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        # The bot in its own process closes the poll (committed), and is killed the moment
        # it asks Telegram to stop it in the chat, before any results went out.
        api.slow_next("editMessageText", seconds=3)
        edits = sum(1 for call in api.calls if call.method == "editMessageText")
        closing = api.message_update(admin.user, group, {"text": "/closepoll"}, reply_to=census)
        await api.push_update(closing)
        await api.wait_until(
            lambda: sum(1 for call in api.calls if call.method == "editMessageText") > edits, 60
        )
        process.kill()
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
    assert db_rows(sandbox, "SELECT closed_on IS NOT NULL, voter_key_sealed FROM polls") == [
        (1, None)
    ]
    assert results_posted(sandbox, group) == []
    await sandbox.start_bot(min_cell_size=K)
    await api.wait_until(lambda: len(results_posted(sandbox, group)) == 1)
    assert sandbox.bot is not None
    await sandbox.bot.vyraj.poll_actions.results_settled()
    await api.wait_until(lambda: "This poll is closed." in census["text"])
    assert len(results_posted(sandbox, group)) == 1
    assert db_rows(sandbox, "SELECT stage FROM poll_outbox") == [("posted",)]
