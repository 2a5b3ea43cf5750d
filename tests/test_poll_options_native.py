"""Telegram's own poll options (Bot API 9.6): results hidden until the poll closes, revoting
where the admin wants it, and close_date as a backstop that closes a poll while the bot is
down; the bot then records Telegram's final counts and posts the results as usual."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.poll_actions import native_close_date
from bot.sandbox.driver import TelegramUser
from bot.sandbox.runtime import Sandbox
from bot.sandbox.server import FakeChat
from services.clock import ManualClock
from services.polls.parsing import parse_poll_line

K = 5
NOW = dt.datetime(2026, 11, 18, 14, 30, tzinfo=dt.UTC)


async def group_with_admin(sandbox: Sandbox) -> tuple[TelegramUser, FakeChat]:
    await sandbox.start_bot(min_cell_size=K)
    admin = sandbox.user("Admin", language_code="en")
    group = await sandbox.group("Belarusians in Vilnius", added_by=admin)
    return admin.in_chat(group), group


def the_poll(sandbox: Sandbox, chat: FakeChat) -> dict[str, Any]:
    (message,) = [m for (c, _), m in sandbox.api.messages.items() if c == chat.id and "poll" in m]
    return message


def texts(sandbox: Sandbox, chat: FakeChat) -> list[str]:
    return [
        str(m.get("text") or m.get("caption") or "")
        for (c, _), m in sorted(sandbox.api.messages.items())
        if c == chat.id
    ]


async def vote(sandbox: Sandbox, poll_id: str, options: list[int]) -> None:
    for option in options:
        await sandbox.api.wait_processed(await sandbox.api.vote_in_poll(poll_id, [option]))


async def test_hidden_and_revote_reach_telegram(sandbox: Sandbox) -> None:
    admin, group = await group_with_admin(sandbox)
    await admin.send("/poll hidden revote Moving this year? | Yes | No")
    poll = the_poll(sandbox, group)["poll"]
    assert poll["hide_results_until_closes"] is True
    assert poll["allows_revoting"] is True
    assert "close_date" not in poll


async def test_a_plain_poll_asks_for_neither(sandbox: Sandbox) -> None:
    admin, group = await group_with_admin(sandbox)
    await admin.send("/poll Moving this year? | Yes | No")
    poll = the_poll(sandbox, group)["poll"]
    assert poll["hide_results_until_closes"] is False
    assert poll["allows_revoting"] is False  # asked explicitly: Telegram's default is True
    voter = sandbox.user("Voter", language_code="en")
    await sandbox.api.vote_in_poll(poll["id"], [0], voter=voter.user)
    with pytest.raises(ValueError, match="already voted"):
        await sandbox.api.vote_in_poll(poll["id"], [1], voter=voter.user)


async def test_a_revote_replaces_the_earlier_answer(sandbox: Sandbox) -> None:
    admin, group = await group_with_admin(sandbox)
    await admin.send("/poll revote Moving this year? | Yes | No")
    poll = the_poll(sandbox, group)["poll"]
    voter = sandbox.user("Voter", language_code="en")
    await sandbox.api.vote_in_poll(poll["id"], [0], voter=voter.user)
    await sandbox.api.vote_in_poll(poll["id"], [1], voter=voter.user)
    assert [o["voter_count"] for o in poll["options"]] == [0, 1]
    assert poll["total_voter_count"] == 1


def test_the_one_liner_keywords() -> None:
    native = parse_poll_line("hidden revote Q? | a | b", NOW)
    assert (native.census, native.hidden_counts, native.revoting) == (False, True, True)
    census = parse_poll_line("census revote Q? | a | b", NOW)
    assert (census.census, census.revoting) == (True, False)  # a census vote always changes
    plain = parse_poll_line("Q? | a | b", NOW)
    assert (plain.hidden_counts, plain.revoting) == (False, False)


async def test_a_close_within_30_days_is_also_told_to_telegram(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    admin, group = await group_with_admin(sandbox)
    await admin.send("/poll Moving? | Yes | No | close: in 2 days")
    poll = the_poll(sandbox, group)["poll"]
    assert poll["close_date"] == int((clock.now() + dt.timedelta(days=2)).timestamp())


async def test_beyond_30_days_only_the_bot_closes_it(sandbox: Sandbox) -> None:
    admin, group = await group_with_admin(sandbox)
    await admin.send("/poll Moving? | Yes | No | close: in 40 days")
    poll = the_poll(sandbox, group)["poll"]
    assert "close_date" not in poll
    assert sandbox.bot is not None
    assert sandbox.bot.vyraj.scheduler.next_run("poll-close-1") is not None


def test_native_close_dates_stay_within_telegrams_range() -> None:
    assert native_close_date(None, NOW) is None
    assert native_close_date(NOW + dt.timedelta(seconds=4), NOW) is None
    inside = NOW + dt.timedelta(seconds=2_628_000)
    assert native_close_date(inside, NOW) == inside
    assert native_close_date(inside + dt.timedelta(seconds=1), NOW) is None


def test_the_native_range_is_real_time_across_a_dst_change() -> None:
    warsaw = ZoneInfo("Europe/Warsaw")
    now = dt.datetime(2026, 10, 1, 12, 0, tzinfo=warsaw)  # summer time; winter time by the close
    too_far = (now.astimezone(dt.UTC) + dt.timedelta(seconds=2_628_000 + 1800)).astimezone(warsaw)
    assert native_close_date(too_far, now) is None  # by wall time it would be within range


async def test_a_poll_telegram_closed_while_the_bot_was_down_gets_its_final_results(
    sandbox: Sandbox, clock: ManualClock, captured_logs: io.StringIO
) -> None:
    admin, group = await group_with_admin(sandbox)
    await admin.send("/poll Moving? | Yes | No | close: in 1 hour")
    poll_id = the_poll(sandbox, group)["poll"]["id"]
    await vote(sandbox, poll_id, [0, 0, 0, 1, 1, 1])
    await sandbox.stop_bot()
    for option in [0, 0, 0, 1, 1]:  # counted by Telegram while the bot is down
        await sandbox.api.vote_in_poll(poll_id, [option])
    clock.advance(dt.timedelta(hours=2))
    await sandbox.api.close_due_polls()
    poll = the_poll(sandbox, group)["poll"]
    assert poll["is_closed"] is True
    await sandbox.start_bot(min_cell_size=K)

    def results_posted() -> bool:
        return any("Results: Moving?" in text for text in texts(sandbox, group))

    await sandbox.api.wait_until(results_posted)
    (results,) = [text for text in texts(sandbox, group) if "Results: Moving?" in text]
    assert "• Yes: 6" in results
    assert "• No: 5" in results
    assert "Votes: 11" in results
    assert "WARNING" not in captured_logs.getvalue()
    assert "ERROR" not in captured_logs.getvalue()


async def test_stop_poll_on_a_poll_telegram_closed_waits_for_the_final_counts(
    sandbox: Sandbox, clock: ManualClock, captured_logs: io.StringIO
) -> None:
    admin, group = await group_with_admin(sandbox)
    await admin.send("/poll Moving? | Yes | No | close: in 1 hour")
    message = the_poll(sandbox, group)
    await vote(sandbox, message["poll"]["id"], [0] * 5 + [1] * 5)
    clock.advance(dt.timedelta(hours=2))
    # The bot's own stopPoll comes first: Telegram answers that the poll is closed already,
    # and the bot waits for the final counts (Telegram's `poll` update) instead of failing.
    assert sandbox.bot is not None
    assert await sandbox.bot.vyraj.poll_actions.close(1) is False
    stops = [call for call in sandbox.api.calls if call.method == "stopPoll"]
    assert [call.status for call in stops] == [400]

    def results_posted() -> bool:
        return any("Results: Moving?" in text for text in texts(sandbox, group))

    await sandbox.api.wait_until(results_posted)
    assert any("• Yes: 5" in text for text in texts(sandbox, group))
    assert "WARNING" not in captured_logs.getvalue()
