"""Polls that the wrong person cannot close, that are never half-made, and that '<', '&' and
'>' cannot break: end to end against the local Bot API server, which parses HTML like Telegram."""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

from bot.sandbox.driver import TelegramUser, buttons_of
from bot.sandbox.runtime import Sandbox
from bot.sandbox.server import FakeChat

K = 5
TRICKY = "Is 2 < 3 & 3 > 2? <x> &amp;"  # parsed as HTML it fails, or loses "amp;"
# The rows a button press by the wrong person must never change.
GUARDED_TABLES = ("chats", "polls", "poll_audit", "survey_waves", "survey_snapshots", "digests")


def db_rows(sandbox: Sandbox, sql: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(sandbox.database_path)) as db:
        return db.execute(sql).fetchall()


def guarded_rows(sandbox: Sandbox) -> dict[str, list[tuple[Any, ...]]]:
    return {table: db_rows(sandbox, f"SELECT * FROM {table}") for table in GUARDED_TABLES}


def poll_messages(sandbox: Sandbox, chat: FakeChat) -> list[dict[str, Any]]:
    return [
        m for (c, _), m in sorted(sandbox.api.messages.items()) if c == chat.id and "poll" in m
    ]


async def admin_group_and_channel(
    sandbox: Sandbox,
) -> tuple[TelegramUser, FakeChat, TelegramUser, FakeChat]:
    await sandbox.start_bot(min_cell_size=K, census_refresh_seconds=0.05)
    admin = sandbox.user("Admin", language_code="en")
    group = await sandbox.group("Belarusians in Kraków", added_by=admin)
    channel = await sandbox.channel("Vyraj news", owner=admin)
    return admin.in_chat(group), group, admin.in_chat(channel), channel


async def test_a_channel_subscriber_cannot_close_a_poll(sandbox: Sandbox) -> None:
    _admin, _group, poster, channel = await admin_group_and_channel(sandbox)
    await poster.send("/poll census Relocated? | Yes | No")
    census = poster.last_message
    await poster.send("/closepoll")
    chooser = poster.last_message
    assert census is not None
    assert chooser is not None
    reader = sandbox.user("Reader", language_code="en").in_chat(channel)
    await reader.click(1, chooser)
    refused = "Sorry: only this chat's administrators can run polls here."
    assert reader.last_answer == refused
    refusals = [a for a in sandbox.api.callback_answers.values() if a.get("text") == refused]
    assert [a["show_alert"] for a in refusals] == [True]
    await reader.press(census, "pc:1")  # forged onto the poll itself
    assert db_rows(sandbox, "SELECT closed_on FROM polls") == [(None,)]
    assert "This poll is closed." not in census["text"]
    await poster.click(1, chooser)
    assert db_rows(sandbox, "SELECT closed_on IS NOT NULL FROM polls") == [(1,)]


async def test_poll_texts_reach_telegram_as_typed(sandbox: Sandbox) -> None:
    admin, group, _poster, _channel = await admin_group_and_channel(sandbox)
    await admin.send(f"/poll {TRICKY} | a < b | <c> & d | e > f")
    (native,) = poll_messages(sandbox, group)
    assert native["poll"]["question"] == TRICKY
    assert [o["text"] for o in native["poll"]["options"]] == ["a < b", "<c> & d", "e > f"]
    await admin.send(f"/poll census {TRICKY} | <yes> | no & maybe")
    census = admin.last_message
    assert census is not None
    assert TRICKY in census["text"]
    assert [b.text.split(" · ")[0] for b in buttons_of(census)] == ["<yes>", "no & maybe"]
    await admin.send("/polls")
    assert f"#1 {TRICKY}" in admin.last_text
    assert f"#2 {TRICKY}" in admin.last_text
    await admin.send("/closepoll", reply_to=census)
    assert f"Results: {TRICKY}" in admin.last_text
    await admin.send("/closepoll", reply_to=native)
    assert native["poll"]["is_closed"]


async def test_a_newpoll_question_reaches_telegram_as_typed(sandbox: Sandbox) -> None:
    admin, group, _poster, _channel = await admin_group_and_channel(sandbox)
    me = admin.in_chat(sandbox.api.private_chat(admin.user))
    await me.send("/newpoll")
    await me.click("Belarusians in Kraków")
    await me.click("Telegram poll")
    await me.click("No, the first is final")
    await me.click("My own question")
    await me.send(TRICKY)
    await me.send("a < b\n<c> & d")
    await me.click("One answer")
    await me.send("in 3 days")
    assert TRICKY in me.last_text
    await me.click("Post it")
    assert "Posted in «Belarusians in Kraków»" in me.last_text
    (native,) = poll_messages(sandbox, group)
    assert native["poll"]["question"] == TRICKY
    assert [o["text"] for o in native["poll"]["options"]] == ["a < b", "<c> & d"]


async def test_a_refused_poll_leaves_no_record_and_the_admin_is_told(sandbox: Sandbox) -> None:
    admin, group, _poster, _channel = await admin_group_and_channel(sandbox)
    refusal = "Bad Request: POLL_ANSWERS_INVALID"
    sandbox.api.fail_next("sendPoll", status=400, description=refusal, chat_id=group.id)
    await admin.send("/poll Where? | Poland | Georgia")
    # A short notice in the group; the details in private.
    assert "Telegram refused the poll, so nothing was posted" in admin.last_text
    assert "POLL_ANSWERS_INVALID" not in admin.last_text
    me = admin.in_chat(sandbox.api.private_chat(admin.user))
    assert "POLL_ANSWERS_INVALID" in me.last_text
    assert db_rows(sandbox, "SELECT count(*) FROM polls") == [(0,)]
    assert db_rows(sandbox, "SELECT count(*) FROM poll_audit") == [(0,)]
    await admin.send("/polls")
    assert "No polls in this chat yet." in admin.last_text
    # The wizard's admin hears it in private, and the group has a short notice.
    await me.send("/newpoll")
    await me.click("Belarusians in Kraków")
    await me.click("Census")
    await me.click("My own question")
    await me.send("Which city?")
    await me.send("Warsaw\nKraków")
    await me.click("One answer")
    await me.send("in 3 days")
    sandbox.api.fail_next("sendMessage", status=400, description=refusal, chat_id=group.id)
    await me.click("Post it")
    assert "Telegram refused the poll, so nothing was posted" in me.last_text
    assert "Telegram refused a poll an administrator prepared" in admin.last_text
    assert db_rows(sandbox, "SELECT count(*) FROM polls") == [(0,)]


def rendered_callbacks(sandbox: Sandbox, seen: set[str]) -> None:
    for message in sandbox.api.messages.values():
        seen.update(b.callback_data for b in buttons_of(message) if b.callback_data)


async def test_no_button_the_bot_renders_changes_anything_for_a_non_admin(
    sandbox: Sandbox,
) -> None:
    admin, group, poster, channel = await admin_group_and_channel(sandbox)
    seen: set[str] = set()
    me = admin.in_chat(sandbox.api.private_chat(admin.user))
    steps = [
        (admin, "/poll census Relocated? | Yes | No"),
        (admin, "/poll Where? | Poland | Georgia"),
        (admin, "/closepoll"),
        (poster, "/poll census Staying? | Yes | No"),
        (poster, "/poll Plans? | Stay | Move"),
        (poster, "/closepoll"),
        (me, "/start"),
        (me, "/newpoll"),
    ]
    for actor, text in steps:
        await actor.send(text)
        rendered_callbacks(sandbox, seen)
    for button in ("Belarusians in Kraków", "Census", "My own question"):
        await me.click(button)
        rendered_callbacks(sandbox, seen)
    assert any(data.startswith("pc:") for data in seen)
    # Census votes are meant for everyone: they change tallies, by design.
    replayed = sorted(data for data in seen if not data.startswith("pv:"))
    outsider = sandbox.user("Outsider", language_code="en")
    await outsider.send("/start")
    hosts = [
        (outsider.in_chat(group), poll_messages(sandbox, group)[0]),
        (outsider.in_chat(channel), poll_messages(sandbox, channel)[0]),
        (outsider, outsider.last_message),
    ]
    before = guarded_rows(sandbox)
    for presser, host in hosts:
        assert host is not None
        for data in replayed:
            await presser.press(host, data)
    assert guarded_rows(sandbox) == before


async def test_a_wave_label_reaches_everyone_as_typed(sandbox: Sandbox) -> None:
    admin = sandbox.user("Admin", language_code="en")
    await sandbox.start_bot(admin_ids=str(admin.user.id), min_cell_size=K)
    subscriber = sandbox.user("Subscriber", language_code="en")
    await subscriber.send("/notify")
    await subscriber.click(1)
    label = "2026 <Q4> & 3 > 2 &amp;"
    await admin.send(f"/wave open {label}")
    assert f"Wave “{label}” is open" in admin.last_text
    assert sandbox.bot is not None
    assert await sandbox.bot.vyraj.broadcaster.wait() == 1
    assert label in subscriber.last_text
    await subscriber.send("/survey")
    assert label in subscriber.last_text
    await admin.send("/wave")
    assert label in admin.last_text
    await admin.send("/wave close")
    assert f"Wave “{label}” is closed" in admin.last_text
