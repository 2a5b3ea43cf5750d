"""Community polls end to end: native and census polls in a group and a channel, closing by
command and on schedule (also across a restart), admins only, forged and repeated votes."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import sqlite3
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import create_i18n
from bot.sandbox.driver import TelegramUser
from bot.sandbox.runtime import Sandbox
from bot.sandbox.server import FakeChat
from handlers.polls.wizard import close_time_refused
from services.clock import ManualClock
from services.polls.parsing import MAX_DAYS_OPEN, PollLineError, parse_close_time

K = 5
WARSAW = ZoneInfo("Europe/Warsaw")  # TIMEZONE


async def group_with_admin(sandbox: Sandbox, **settings: Any) -> tuple[TelegramUser, FakeChat]:
    await sandbox.start_bot(min_cell_size=K, census_refresh_seconds=0.05, **settings)
    admin = sandbox.user("Admin", language_code="en")
    group = await sandbox.group("Belarusians in Kraków", added_by=admin)
    return admin.in_chat(group), group


def db_rows(sandbox: Sandbox, sql: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(sandbox.database_path)) as db:
        return db.execute(sql).fetchall()


def poll_messages(sandbox: Sandbox, chat: FakeChat) -> list[dict[str, Any]]:
    return [
        m for (c, _), m in sorted(sandbox.api.messages.items()) if c == chat.id and "poll" in m
    ]


async def test_native_poll_from_one_line_counts_and_closes_with_results(
    sandbox: Sandbox,
) -> None:
    admin, group = await group_with_admin(sandbox)
    await admin.send("/poll@vyraj_bot Where do you live? | Poland | Georgia | Serbia")
    (message,) = poll_messages(sandbox, group)
    poll = message["poll"]
    assert poll["is_anonymous"] is True
    assert [o["text"] for o in poll["options"]] == ["Poland", "Georgia", "Serbia"]
    for option in [0] * 6 + [1] * 5 + [2]:
        await sandbox.api.wait_processed(await sandbox.api.vote_in_poll(poll["id"], [option]))
    assert db_rows(sandbox, "SELECT tallies FROM polls") == [("[6, 5, 1]",)]
    await admin.send("/closepoll", reply_to=message)
    assert poll["is_closed"] is True
    results = admin.last_message
    assert results is not None
    assert "photo" in results  # a chart: three options or more
    caption = results["caption"]
    # Serbia (1) is below k; folding it alone would give it away, so Georgia joins it.
    assert "• Poland: 6 (50%)" in caption
    assert "• Other options together: 6 (50%)" in caption
    assert "Georgia" not in caption
    assert "Serbia" not in caption
    assert db_rows(sandbox, "SELECT closed_on IS NOT NULL FROM polls") == [(1,)]
    assert db_rows(sandbox, "SELECT action FROM poll_audit ORDER BY id") == [
        ("open",),
        ("close",),
    ]
    await admin.send("/polls")
    assert "Where do you live? (Telegram poll; closed on" in admin.last_text


async def test_only_admins_run_polls_and_bad_lines_get_usage(sandbox: Sandbox) -> None:
    admin, group = await group_with_admin(sandbox)
    member = sandbox.user("Member", language_code="en").in_chat(group)
    await member.send("/poll Q? | A | B")
    assert "only this chat's administrators" in member.last_text
    await member.send("/closepoll")
    assert "only this chat's administrators" in member.last_text
    cases = {
        "/poll": "How to run a poll",
        "/poll Just a question": "Separate the question and the options with |",
        "/poll Q? | only one": "at least 2 options",
        "/poll Q? | " + " | ".join(f"o{i}" for i in range(13)): "at most 12 options",
        "/poll Q? | " + "x" * 101 + " | b": "at most 100 characters",
        "/poll " + "q" * 301 + " | a | b": "at most 300 characters",
        "/poll Q? | a | A": "Two options are the same",
        "/poll Q? | a | b | close: someday": "did not understand the close time",
        "/poll Q? | a | b | close: in 200 days": "did not understand the close time",
    }
    for line, expected in cases.items():
        await admin.send(line)
        assert expected in admin.last_text, line
    assert poll_messages(sandbox, group) == []
    assert db_rows(sandbox, "SELECT count(*) FROM polls") == [(0,)]


async def test_census_poll_in_a_group_hides_small_counts_and_counts_people_once(
    sandbox: Sandbox,
) -> None:
    admin, group = await group_with_admin(sandbox)
    await admin.send("/poll census Has your company announced relocation? | Yes | No")
    census = admin.last_message
    assert census is not None
    assert "Has your company announced relocation?" in census["text"]
    voters = [sandbox.user(f"V{i}", language_code="ru").in_chat(group) for i in range(6)]
    for voter in voters[:5]:
        await voter.click("Yes", census)
    assert voters[0].last_answer is not None
    assert voters[0].last_answer.endswith(": Yes")

    def buttons() -> list[str]:
        return [b["text"] for row in census["reply_markup"]["inline_keyboard"] for b in row]

    # The refresher edits the message a moment after the fifth vote (counts move in steps).
    await sandbox.api.wait_until(lambda: buttons() == ["Yes · 5", f"No · <{K}"])
    await voters[5].click("Yes", census)
    await voters[5].click("No", census)  # changes the vote
    # The same person tapping a hundred times at once counts once.
    await asyncio.gather(*(voters[0].press(census, "pv:1:0") for _ in range(100)))
    assert db_rows(sandbox, "SELECT count(*) FROM poll_votes") == [(6,)]
    for forged in ("pv:99:0", "pv:1:7", "pv:1:-1", "pv:x:y"):
        await voters[1].press(census, forged)
    assert db_rows(sandbox, "SELECT count(*) FROM poll_votes") == [(6,)]
    await admin.send("/closepoll")
    await admin.click(1)
    assert "Closed" in admin.last_text
    assert "This poll is closed." in census["text"]
    assert "reply_markup" not in census or not census["reply_markup"]["inline_keyboard"]
    # Votes and the poll's key are gone; only the tallies stay.
    assert db_rows(sandbox, "SELECT count(*) FROM poll_votes") == [(0,)]
    assert db_rows(sandbox, "SELECT voter_key_sealed FROM polls") == [(None,)]
    await voters[2].press(census, "pv:1:0")
    assert voters[2].last_answer == "Этот опрос закрыт."


async def test_census_poll_in_a_channel(sandbox: Sandbox) -> None:
    await sandbox.start_bot(min_cell_size=K, census_refresh_seconds=0.05)
    owner = sandbox.user("Owner", language_code="be")
    channel = await sandbox.channel("Vyraj news", owner=owner)
    poster = owner.in_chat(channel)
    await poster.send("/poll census where")  # the template, in the poster's language
    census = poster.last_message
    assert census is not None
    assert "Дзе вы цяпер жывяце?" in census["text"]  # the default language: no sender
    readers = [sandbox.user(f"R{i}", language_code="en").in_chat(channel) for i in range(7)]
    for reader in readers:
        await reader.click(1, census)  # Poland
    await poster.send("/closepoll", reply_to=census)
    results = poster.last_message
    assert results is not None
    assert "photo" in results
    assert "7" in results["caption"]


async def test_a_close_time_survives_a_restart_and_a_missed_one_runs_at_start(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    admin, group = await group_with_admin(sandbox)
    await admin.send("/poll Lunch? | Yes | No | close: in 2 hours")
    await admin.send("/poll Dinner? | Yes | No | close: in 3 hours")
    await sandbox.stop_bot()
    clock.advance(dt.timedelta(hours=2, minutes=5))  # the first poll's time comes while down
    await sandbox.start_bot(min_cell_size=K)
    # The results are the last thing closing sends: wait for them, then look at the rest.
    await sandbox.api.wait_until(lambda: "Fewer than 5 votes" in admin.last_text)
    lunch, dinner = poll_messages(sandbox, group)
    assert lunch["poll"]["is_closed"] is True
    assert dinner["poll"]["is_closed"] is False
    assert sandbox.bot is not None
    next_run = sandbox.bot.vyraj.scheduler.next_run("poll-close-2")
    assert next_run is not None
    # APScheduler runs on real time: the 55 minutes the clock says are left, from now.
    expected = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=55)
    assert abs((next_run - expected).total_seconds()) < 60


async def test_removed_from_a_group_mid_poll(sandbox: Sandbox) -> None:
    admin, group = await group_with_admin(sandbox)
    await admin.send("/poll census Still here? | Yes | No")
    census = admin.last_message
    assert census is not None
    await admin.click("Yes", census)
    assert db_rows(sandbox, "SELECT count(*) FROM poll_votes") == [(1,)]
    update = sandbox.api.bot_membership_update(group, admin.user, "kicked")
    await sandbox.api.wait_processed(await sandbox.api.push_update(update))
    assert db_rows(sandbox, "SELECT closed_on IS NOT NULL FROM polls") == [(1,)]
    assert db_rows(sandbox, "SELECT active FROM chats") == [(0,)]
    # Closed the way an admin's close is: audited, no census vote left.
    assert db_rows(sandbox, "SELECT action, admin FROM poll_audit ORDER BY id")[-1] == (
        "close",
        "bot",
    )
    assert db_rows(sandbox, "SELECT count(*) FROM poll_votes") == [(0,)]
    assert db_rows(sandbox, "SELECT tallies FROM polls") == [("[1, 0]",)]


async def test_step_by_step_poll_from_a_private_chat(sandbox: Sandbox, clock: ManualClock) -> None:
    admin, group = await group_with_admin(sandbox)
    stranger = sandbox.user("Stranger", language_code="en")
    await stranger.send("/newpoll")
    assert "not in any group or channel where you are an administrator" in stranger.last_text
    me = admin.in_chat(sandbox.api.private_chat(admin.user))
    await me.send("/newpoll")
    assert "Where should the poll go?" in me.last_text
    await me.click("Belarusians in Kraków")
    await me.click("Census")
    await me.click("My own question")
    await me.send("Which city are you in?")
    await me.send("Warsaw\nKraków\n\nWrocław")
    await me.click("Several answers")
    await me.send("sometime")  # not a time
    assert "did not understand the close time" in me.last_text
    assert "close:" not in me.last_text  # a /poll line's prefix: this step refuses it
    await me.send("in 3 days")
    assert "Preview" in me.last_text
    assert "• Wrocław" in me.last_text
    assert "Several answers allowed" in me.last_text
    await me.click("Post it")
    assert "Posted in «Belarusians in Kraków»" in me.last_text
    census = admin.last_message
    assert census is not None
    assert "Which city are you in?" in census["text"]
    voter = sandbox.user("Voter", language_code="en").in_chat(group)
    await voter.click("Warsaw", census)
    await voter.click("Wrocław", census)
    assert voter.last_answer == "Your vote: Warsaw, Wrocław"
    await voter.click("Warsaw", census)
    assert voter.last_answer == "Your vote: Wrocław"
    with contextlib.closing(sqlite3.connect(sandbox.database_path)) as db:
        (close_at,) = db.execute("SELECT close_at FROM polls").fetchone()
    assert dt.datetime.fromisoformat(close_at) == clock.now() + dt.timedelta(days=3)


async def test_the_wizard_ignores_stale_buttons_and_can_be_cancelled(sandbox: Sandbox) -> None:
    admin, _group = await group_with_admin(sandbox)
    me = admin.in_chat(sandbox.api.private_chat(admin.user))
    await me.send("/newpoll")
    first = me.last_message
    assert first is not None
    await me.click(1)
    await me.press(first, "nw:chat:0")  # the same step again
    assert me.last_answer == "This button is no longer valid. Send /start for a fresh menu."
    await me.press(first, "nw:kind:nonsense")
    assert me.last_answer == "This button is no longer valid. Send /start for a fresh menu."
    await me.click("Cancel")
    assert "No poll was posted" in me.last_text
    assert db_rows(sandbox, "SELECT count(*) FROM polls") == [(0,)]


async def test_native_poll_in_a_channel_closed_by_its_scheduled_job(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    await sandbox.start_bot(min_cell_size=K)
    owner = sandbox.user("Owner", language_code="en")
    channel = await sandbox.channel("Vyraj news", owner=owner)
    poster = owner.in_chat(channel)
    await poster.send("/poll Relocated this year? | Yes | No | Planning | close: in 1 hour")
    (message,) = poll_messages(sandbox, channel)
    for option in [0] * 5 + [2] * 6:
        await sandbox.api.wait_processed(
            await sandbox.api.vote_in_poll(message["poll"]["id"], [option])
        )
    assert sandbox.bot is not None
    scheduler = sandbox.bot.vyraj.scheduler
    assert scheduler.next_run("poll-close-1") is not None  # its close time is scheduled
    # Bring the close time forward: the same job, run by APScheduler for real.
    scheduler.schedule_close(1, clock.now() + dt.timedelta(milliseconds=200))
    await sandbox.api.wait_until(lambda: "photo" in (poster.last_message or {}))
    assert message["poll"]["is_closed"]
    results = poster.last_message
    assert results is not None
    assert "• Planning: 6 (55%)" in results["caption"]
    assert "• Yes: 5 (45%)" in results["caption"]
    assert "Галасоў: 11" in results["caption"]  # a channel post has no sender: DEFAULT_LOCALE


@pytest.mark.parametrize("locale", ["be", "ru", "en"])
def test_the_wizards_close_time_refusal_suggests_only_what_it_accepts(locale: str) -> None:
    now = dt.datetime(2026, 11, 24, 12, 0, tzinfo=WARSAW)
    i18n = create_i18n("en")
    with i18n.context(), i18n.use_locale(locale):
        refusal = close_time_refused()
    examples = re.findall(r"[«“](.+?)[»”]", refusal)
    assert len(examples) == 3, refusal
    for example in examples:
        assert parse_close_time(example, now) > now, example


@pytest.mark.pinned_instants
def test_close_times_are_real_time_from_now_in_the_time_zone(instant: dt.datetime) -> None:
    def hours_until(close: dt.datetime) -> float:
        return (close.astimezone(dt.UTC) - instant.astimezone(dt.UTC)) / dt.timedelta(hours=1)

    assert hours_until(parse_close_time("in 1 hour", instant)) == 1
    assert hours_until(parse_close_time("in 2 hours", instant)) == 2
    assert hours_until(parse_close_time("через 3 дня", instant)) == 72
    tomorrow = instant.date() + dt.timedelta(days=1)
    end_of_tomorrow = parse_close_time(tomorrow.isoformat(), instant)
    assert end_of_tomorrow.tzinfo == WARSAW
    assert (end_of_tomorrow.date(), end_of_tomorrow.time()) == (tomorrow, dt.time(23, 59))
    assert parse_close_time(f"in {MAX_DAYS_OPEN} days", instant)
    for refused in (f"in {MAX_DAYS_OPEN + 1} days", (instant.date() - dt.timedelta(days=1))):
        with pytest.raises(PollLineError):
            parse_close_time(str(refused), instant)


@pytest.mark.pinned_instants
async def test_a_close_time_is_kept_scheduled_and_dated_by_the_clock(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    admin, _group = await group_with_admin(sandbox)
    # From 23:59 in Warsaw, an hour later is a new day there but not yet in UTC.
    await admin.send("/poll Lunch? | Yes | No | close: in 1 hour")
    [(close_at,)] = db_rows(sandbox, "SELECT close_at FROM polls")
    assert dt.datetime.fromisoformat(close_at) == clock.now() + dt.timedelta(hours=1)
    assert sandbox.bot is not None
    next_run = sandbox.bot.vyraj.scheduler.next_run("poll-close-1")
    assert next_run is not None
    # APScheduler runs on real time: an hour from now.
    expected = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    assert abs((next_run - expected).total_seconds()) < 60
    clock.advance(dt.timedelta(hours=1))
    # What a start does for open polls: the close is due now, so it runs at once.
    await sandbox.bot.vyraj.scheduler.restore_poll_closes(sandbox.bot.vyraj.storage)
    await sandbox.api.wait_until(lambda: "Fewer than 5 votes" in admin.last_text)
    closed_on = clock.today(WARSAW).isoformat()
    assert db_rows(sandbox, "SELECT closed_on FROM polls") == [(closed_on,)]
    await admin.send("/polls")
    assert f"(Telegram poll; closed on {closed_on})" in admin.last_text


async def test_the_wizards_close_buttons_count_from_the_clock(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    admin, _group = await group_with_admin(sandbox)
    me = admin.in_chat(sandbox.api.private_chat(admin.user))
    for close_button in ("In 1 day", "Not automatically"):
        await me.send("/newpoll")
        await me.click("Belarusians in Kraków")
        await me.click("Census")
        await me.click(1)  # a template question
        await me.click(close_button)
        await me.click("Post it")
        assert "Posted in «Belarusians in Kraków»" in me.last_text
    closes = [row[0] for row in db_rows(sandbox, "SELECT close_at FROM polls ORDER BY id")]
    assert closes == [(clock.now() + dt.timedelta(days=1)).isoformat(), None]
