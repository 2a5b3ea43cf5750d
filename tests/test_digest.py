"""The digest: scheduled with a controllable clock, caught up after downtime exactly once,
retried through Telegram errors, differencing-protected, and on demand."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.chart_process import ChartProcess
from bot.digest import DigestService
from bot.sandbox.driver import TelegramUser
from bot.sandbox.runtime import Sandbox
from bot.sandbox.server import FakeChat
from services.clock import ManualClock

ROOT = Path(__file__).resolve().parent.parent
K = 5
WARSAW = ZoneInfo("Europe/Warsaw")
# Yearly, so that the real clock never makes it due during a test; tests move the clock.
YEARLY = "0 10 1 1 *"
NEW_YEAR = dt.datetime(2027, 1, 1, 10, 0, tzinfo=WARSAW)


async def start(sandbox: Sandbox, schedule: str = YEARLY) -> tuple[TelegramUser, FakeChat]:
    admin = sandbox.user("Admin", language_code="en")
    owner = sandbox.user("Owner", language_code="en")
    await sandbox.start_bot(admin_ids=str(admin.user.id), min_cell_size=K)
    channel = await sandbox.channel("Vyraj digest", owner=owner)
    await sandbox.stop_bot()
    await sandbox.start_bot(
        admin_ids=str(admin.user.id),
        min_cell_size=K,
        digest_chat_id=str(channel.id),
        digest_schedule=schedule,
        digest_locale="en",
        timezone="Europe/Warsaw",
    )
    return admin, channel


async def answer(sandbox: Sandbox, count: int, status: str = "Staying in Belarus") -> None:
    for _ in range(count):
        user = sandbox.user(language_code="en")
        await user.send("/survey")
        await user.click("I agree")
        await user.click(status)
        if status.startswith("Left"):
            await user.click("Poland")
            for _step in range(5):
                await user.click(1)
        else:
            await user.click("QA")
            await user.click("Junior")
        await user.click("Submit")


def digests(sandbox: Sandbox) -> DigestService:
    assert sandbox.bot is not None
    return sandbox.bot.vyraj.digest_service


def channel_posts(sandbox: Sandbox, channel: FakeChat) -> list[dict[str, Any]]:
    return [m for (c, _), m in sorted(sandbox.api.messages.items()) if c == channel.id]


def recorded(sandbox: Sandbox) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(sandbox.database_path)) as db:
        return db.execute("SELECT period_key, kind, status FROM digests").fetchall()


async def test_the_schedule_posts_once_when_the_clock_passes_it(sandbox: Sandbox) -> None:
    admin, channel = await start(sandbox)
    await admin.send("/wave open 2026 Q4")
    await answer(sandbox, 4)
    await answer(sandbox, 3, "Left after 24 Feb 2022")
    service = digests(sandbox)
    assert not await service.run_due(NEW_YEAR - dt.timedelta(minutes=1))
    assert channel_posts(sandbox, channel) == []
    assert await service.run_due(NEW_YEAR + dt.timedelta(minutes=3))
    assert not await service.run_due(NEW_YEAR + dt.timedelta(minutes=4))  # never twice
    posts = channel_posts(sandbox, channel)
    assert "photo" in posts[0]  # the chart first, the headline as its caption
    assert "Vyraj digest, " in posts[0]["caption"]
    # The snapshot published at the 5th answer; the 6th and 7th are not yet k changes.
    assert "Answers: 5" in posts[0]["caption"]
    text = "\n".join(post.get("text", "") for post in posts[1:])
    assert "• Staying in Belarus: 4 (80%)" not in text  # 4 < k: never shown
    assert "Other (smaller groups): 5 (100%)" in text
    assert "self-selected" in text
    assert recorded(sandbox) == [("2027-01-01T10:00:00+01:00", "scheduled", "posted")]
    # Past the grace period, a missed digest is skipped rather than posted late.
    assert not await service.run_due(NEW_YEAR + dt.timedelta(hours=13, days=365))
    assert sandbox.bot is not None
    next_run = sandbox.bot.vyraj.scheduler.next_run("digest")
    assert next_run is not None
    assert (next_run.month, next_run.day) == (1, 1)
    assert next_run.hour == 10


async def test_after_downtime_the_missed_digest_goes_out_once(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    # A daily schedule that fired an hour ago, while the bot was down.
    earlier = clock.local_now(WARSAW) - dt.timedelta(hours=1)
    daily = f"{earlier.minute} {earlier.hour} * * *"
    admin, channel = await start(sandbox)
    await sandbox.stop_bot()
    await sandbox.start_bot(
        admin_ids=str(admin.user.id),
        min_cell_size=K,
        digest_chat_id=str(channel.id),
        digest_schedule=daily,
        timezone="Europe/Warsaw",
        digest_locale="ru",
    )
    assert len(recorded(sandbox)) == 1
    first = channel_posts(sandbox, channel)
    assert first
    assert "Ни одна волна опроса ещё не проводилась." in first[0]["text"]  # DIGEST_LOCALE
    await sandbox.stop_bot()
    await sandbox.start_bot(
        min_cell_size=K,
        digest_chat_id=str(channel.id),
        digest_schedule=daily,
        timezone="Europe/Warsaw",
    )
    assert len(recorded(sandbox)) == 1
    assert channel_posts(sandbox, channel) == first


async def test_a_single_new_answer_never_shows_in_the_next_digest(sandbox: Sandbox) -> None:
    admin, channel = await start(sandbox)
    await admin.send("/wave open 2026 Q4")
    await answer(sandbox, 6)  # the snapshot holds the first 5; the 6th is 1 change
    service = digests(sandbox)
    assert await service.run_due(NEW_YEAR)
    await answer(sandbox, 1, "Left after 24 Feb 2022")
    assert await service.post_now(NEW_YEAR + dt.timedelta(days=7))
    second = "\n".join(
        p.get("caption", p.get("text", "")) for p in channel_posts(sandbox, channel)
    )
    assert "figures are the same as last time" in second
    assert "Answers: 6" not in second
    assert "Answers: 7" not in second
    await answer(sandbox, 3, "Left after 24 Feb 2022")  # now 5 changes since the snapshot
    assert await service.post_now(NEW_YEAR + dt.timedelta(days=14))
    third = channel_posts(sandbox, channel)[-3:]
    caption = next(p["caption"] for p in third if "caption" in p)
    assert "Answers: 10 (+5 since the last digest)" in caption


async def test_telegram_errors_are_retried_without_duplicates(sandbox: Sandbox) -> None:
    admin, channel = await start(sandbox)
    await admin.send("/wave open 2026 Q4")
    await answer(sandbox, 5)
    sandbox.api.fail_next("sendPhoto", status=429, retry_after=1)
    sandbox.api.fail_next("sendMessage", status=500, chat_id=channel.id)
    assert await digests(sandbox).run_due(NEW_YEAR)
    photos = [c for c in sandbox.api.calls if c.method == "sendPhoto"]
    assert [c.status for c in photos] == [429, 200]
    posts = channel_posts(sandbox, channel)
    texts = [p.get("text") for p in posts if "text" in p]
    assert len(texts) == len(set(texts))  # every message once
    assert sum("photo" in p for p in posts) == 1


async def test_admins_preview_and_post_the_digest_on_demand(sandbox: Sandbox) -> None:
    admin, channel = await start(sandbox)
    member = sandbox.user("Member", language_code="en")
    await member.send("/digest now")
    assert "only for the bot's admins" in member.last_text
    await admin.send("/digest preview")
    assert "Vyraj digest" in " ".join(m.get("text", "") for m in admin.bot_messages)
    assert channel_posts(sandbox, channel) == []
    assert recorded(sandbox) == []
    await admin.send("/digest now")
    assert "The digest is posted." in admin.last_text
    assert channel_posts(sandbox, channel)
    assert [row[1:] for row in recorded(sandbox)] == [("manual", "posted")]


def weekly_service(clock: ManualClock, grace: dt.timedelta) -> DigestService:
    """Mondays at 10:00 in Warsaw; nothing to post to, for due periods only."""
    return DigestService(
        None,
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        k=K,
        chat_id=None,
        locale="en",
        schedule="0 10 * * mon",
        timezone="Europe/Warsaw",
        grace=grace,
        clock=clock,
        charts=ChartProcess(),  # never started: these tests draw nothing
        view_counts=None,  # type: ignore[arg-type]
    )


def test_due_periods_follow_the_cron_schedule_in_the_time_zone(clock: ManualClock) -> None:
    service = weekly_service(clock, dt.timedelta(hours=12))
    monday = dt.datetime(2026, 11, 23, 10, 0, tzinfo=WARSAW)
    assert service.due_period(monday - dt.timedelta(seconds=1)) is None
    assert service.due_period(monday) == monday
    assert service.due_period(monday + dt.timedelta(hours=11, minutes=59)) == monday
    assert service.due_period(monday + dt.timedelta(hours=12, seconds=1)) is None
    utc_ten = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
    assert service.due_period(utc_ten) == monday  # 11:00 in Warsaw: the 10:00 run is due


async def run_cli(sandbox: Sandbox, tmp_path: Path, *args: str, **env: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "digest",
        *args,
        cwd=tmp_path,
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": f"sqlite:///{sandbox.database_path}",
            "SECRET_KEY": sandbox.secret_key,
            "DIGEST_LOCALE": "en",
            "MIN_CELL_SIZE": str(K),
            **env,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 90)
    return process.returncode or 0, output.decode()


async def test_vyraj_digest_dry_run_and_now(sandbox: Sandbox, tmp_path: Path) -> None:
    admin, channel = await start(sandbox)
    await admin.send("/wave open 2026 Q4")
    await answer(sandbox, 6)
    await sandbox.stop_bot()
    code, output = await run_cli(sandbox, tmp_path, "--dry-run", "--chart", "chart.png")
    assert code == 0, output
    assert "Answers: 5" in output  # the snapshot: the 6th answer is not yet k changes
    assert "• Staying in Belarus: 5 (100%)" in output
    assert "<b>" not in output  # printed as a reader sees it, not as HTML
    assert (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG")
    assert recorded(sandbox) == []  # a dry run records nothing
    code, output = await run_cli(sandbox, tmp_path, "--now")
    assert code == 2
    assert "DIGEST_CHAT_ID" in output
    code, output = await run_cli(
        sandbox,
        tmp_path,
        "--now",
        BOT_TOKEN=sandbox.api.token,
        TELEGRAM_API_URL=sandbox.api_url,
        DIGEST_CHAT_ID=str(channel.id),
    )
    assert code == 0, output
    assert "The digest is posted." in output
    assert [row[1:] for row in recorded(sandbox)] == [("manual", "posted")]
    assert "Answers: 5" in channel_posts(sandbox, channel)[0]["caption"]


async def test_the_digest_compares_waves_and_lists_closed_polls(sandbox: Sandbox) -> None:
    admin, channel = await start(sandbox)
    await admin.send("/wave open first")
    await answer(sandbox, 5)
    await admin.send("/wave close")
    await admin.send("/wave open second")
    await answer(sandbox, 5)
    await answer(sandbox, 5, "Left after 24 Feb 2022")
    group = await sandbox.group("Poll group", added_by=admin)
    in_group = admin.in_chat(group)
    await in_group.send("/poll census Moving soon? | Yes | No")
    census = in_group.last_message
    assert census is not None
    for index in range(6):
        await sandbox.user(f"G{index}", language_code="en").in_chat(group).click("Yes", census)
    await in_group.send("/closepoll", reply_to=census)
    await admin.send("/relocate")
    await admin.click("Poland")
    await admin.click("Poland Business Harbour")
    assert await digests(sandbox).post_now()  # today, when the poll closed
    text = "\n".join(p.get("text", "") for p in channel_posts(sandbox, channel))
    assert "Since the previous wave («first»)" in text
    assert "• Staying in Belarus: 100% → 50%" in text
    assert "• Left after 24 Feb 2022: 5 (50%)" in text
    assert "Polls closed in this period" in text
    assert "• «Moving soon?»: Yes leads (6)" in text
    assert "Most read: Poland Business Harbour (PBH) visa" in text


async def test_too_few_answers_give_no_figures(sandbox: Sandbox) -> None:
    admin, channel = await start(sandbox)
    await admin.send("/wave open 2026 Q4")
    await answer(sandbox, K - 1)
    assert await digests(sandbox).post_now()
    (post,) = channel_posts(sandbox, channel)  # no chart: nothing to draw
    assert "Not enough answers yet: figures appear once at least 5 people" in post["text"]
    assert "Answers:" not in post["text"]
    assert "Staying" not in post["text"]


@pytest.mark.pinned_instants
def test_the_due_period_is_last_monday_at_ten_in_warsaw(clock: ManualClock) -> None:
    service = weekly_service(clock, dt.timedelta(days=7))
    today = clock.today(WARSAW)
    monday = today - dt.timedelta(days=today.weekday())
    expected = dt.datetime.combine(monday, dt.time(10), WARSAW)
    if expected > clock.now():
        expected = dt.datetime.combine(monday - dt.timedelta(days=7), dt.time(10), WARSAW)
    due = service.due_period(service.now())
    assert due == expected
    assert due is not None
    assert due.utcoffset() == expected.utcoffset()
    # The grace period is real time: a second past it, the period is no longer due.
    since = clock.now() - expected
    assert weekly_service(clock, since).due_period(service.now()) == expected
    assert weekly_service(clock, since - dt.timedelta(seconds=1)).due_period(service.now()) is None
