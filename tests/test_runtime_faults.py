"""Run-time faults the bot must survive against the local Bot API server: a proxy's HTML 502,
dropped connections, a crash mid-digest, a second instance, malformed updates, forged buttons,
markup in labels and anonymous group admins."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import json
import os
import sqlite3
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.driver import TelegramUser
from bot.sandbox.runtime import Sandbox
from bot.sandbox.server import FakeChat
from services.clock import ManualClock
from tests.test_digest import WARSAW, YEARLY, K, answer, channel_posts, digests
from tests.test_digest import start as start_with_digest_channel

ROOT = Path(__file__).resolve().parent.parent
NOTICE = "/notify"  # every new-wave message ends with how to stop them


async def start_with_admin(sandbox: Sandbox) -> TelegramUser:
    admin = sandbox.user("Admin", language_code="en")
    await sandbox.start_bot(admin_ids=str(admin.user.id), min_cell_size=K)
    return admin


async def subscribe(sandbox: Sandbox, count: int) -> list[TelegramUser]:
    people = [sandbox.user(f"S{i}", language_code="en") for i in range(count)]
    for person in people:
        await person.send("/notify")
        await person.click(1)
    return people


def notices_since(sandbox: Sandbox, started: int) -> list[Any]:
    return [
        call
        for call in sandbox.api.calls[started:]
        if call.method == "sendMessage" and NOTICE in str(call.params.get("text"))
    ]


def subscriber_count(sandbox: Sandbox) -> int:
    with contextlib.closing(sqlite3.connect(sandbox.database_path)) as db:
        (count,) = db.execute("SELECT count(*) FROM wave_subscribers").fetchone()
    return int(count)


async def test_the_broadcast_survives_a_502_page_and_a_dropped_connection(
    sandbox: Sandbox, captured_logs: io.StringIO
) -> None:
    admin = await start_with_admin(sandbox)
    people = await subscribe(sandbox, 20)
    # Midway a proxy answers with its HTML page, then a connection drops.
    sandbox.api.fail_next("sendMessage", status=502, reply="html", chat_id=people[2].user.id)
    sandbox.api.fail_next("sendMessage", status=502, reply="drop", chat_id=people[7].user.id)
    started = len(sandbox.api.calls)
    await admin.send("/wave open spring")
    assert sandbox.bot is not None
    assert await sandbox.bot.vyraj.broadcaster.wait() == 20
    notices = notices_since(sandbox, started)
    assert [c.status for c in notices if c.status != 200] == [502, 502]  # page, dropped
    delivered = Counter(int(c.params["chat_id"]) for c in notices if c.status == 200)
    assert sorted(delivered) == sorted(p.user.id for p in people)
    assert set(delivered.values()) == {1}  # everyone told exactly once
    assert subscriber_count(sandbox) == 20
    assert "Traceback" not in captured_logs.getvalue()


async def test_a_broadcast_that_crashes_says_so_in_the_log(
    sandbox: Sandbox, captured_logs: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await start_with_admin(sandbox)
    await subscribe(sandbox, 1)
    assert sandbox.bot is not None
    broadcaster = sandbox.bot.vyraj.broadcaster

    async def broken(*_args: object) -> bool:
        raise RuntimeError("a bug in the broadcast")

    monkeypatch.setattr(broadcaster, "_tell", broken)
    await admin.send("/wave open spring")
    with pytest.raises(RuntimeError):
        await broadcaster.wait()
    # The done-callback ran before the waiter resumed: callbacks run in the order added.
    log = captured_logs.getvalue()
    assert "The new-wave broadcast stopped" in log
    assert "a bug in the broadcast" in log


async def test_a_label_with_markup_is_shown_literally_and_a_400_drops_nobody(
    sandbox: Sandbox,
) -> None:
    admin = await start_with_admin(sandbox)
    people = await subscribe(sandbox, 5)
    sandbox.api.fail_next(
        "sendMessage", status=400, description="Bad Request: oops", chat_id=people[0].user.id
    )
    await admin.send("/wave open <b>&lt;")
    assert sandbox.bot is not None
    assert await sandbox.bot.vyraj.broadcaster.wait() == 4
    assert "<b>&lt;" in people[1].last_text
    assert subscriber_count(sandbox) == 5  # a refusal other than "blocked" unsubscribes nobody
    await people[1].send("/survey")
    assert "Survey: <b>&lt;" in people[1].last_text


def insert_digest(
    sandbox: Sandbox, key: str, status: str, claimed_at: dt.datetime, parts: list[int], snap: str
) -> None:
    with contextlib.closing(sqlite3.connect(sandbox.database_path)) as db, db:
        db.execute(
            "INSERT INTO digests (period_key, kind, status, claimed_at, message_ids, snapshot) "
            "VALUES (?, 'scheduled', ?, ?, ?, ?)",
            (key, status, claimed_at.isoformat(), json.dumps(parts), snap),
        )


def digest_rows(sandbox: Sandbox) -> dict[str, tuple[str, list[int]]]:
    with contextlib.closing(sqlite3.connect(sandbox.database_path)) as db:
        rows = db.execute("SELECT period_key, status, message_ids FROM digests").fetchall()
    return {key: (status, json.loads(ids)) for key, status, ids in rows}


async def test_a_digest_cut_short_is_finished_at_start_without_repeating_a_part(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    admin, channel = await start_with_digest_channel(sandbox)
    await admin.send("/wave open 2026 Q4")
    await answer(sandbox, 5)
    now = clock.local_now(WARSAW)
    composed = await digests(sandbox).compose(now)
    assert composed.chart is not None
    texts = len(composed.messages)
    await sandbox.stop_bot()
    snap = composed.snapshot.to_json()
    # Killed after the chart went out; killed while the first text was in flight (0); failed
    # before anything went out; and one claimed too long ago.
    hour = dt.timedelta(hours=1)
    insert_digest(sandbox, "killed", "posting", now - hour, [901], snap)
    insert_digest(sandbox, "killed-mid-text", "posting", now - 2 * hour, [902, 0], snap)
    insert_digest(sandbox, "failed", "failed", now - 3 * hour, [], snap)
    insert_digest(sandbox, "too-old", "failed", now - 13 * hour, [], snap)
    started = len(sandbox.api.calls)
    await sandbox.start_bot(
        admin_ids=str(admin.user.id),
        min_cell_size=K,
        digest_chat_id=str(channel.id),
        digest_schedule=YEARLY,
        digest_locale="en",
    )
    methods = [
        c.method
        for c in sandbox.api.calls[started:]
        if str(c.params.get("chat_id")) == str(channel.id)
    ]
    assert methods.count("sendPhoto") == 1  # the failed one's only
    assert methods.count("sendMessage") == texts + (texts - 1) + texts
    rows = digest_rows(sandbox)
    assert {rows[key][0] for key in ("killed", "killed-mid-text", "failed")} == {"posted"}
    assert rows["killed"][1][0] == 901
    assert rows["killed-mid-text"][1][:2] == [902, 0]  # the part in flight is never repeated
    for key in ("killed", "killed-mid-text", "failed"):
        assert len(rows[key][1]) == 1 + texts
    assert rows["too-old"] == ("failed", [])  # beyond DIGEST_GRACE: left alone


async def test_a_double_digest_now_posts_once(sandbox: Sandbox, clock: ManualClock) -> None:
    admin, channel = await start_with_digest_channel(sandbox)
    await admin.send("/digest now")
    posts = channel_posts(sandbox, channel)
    assert posts
    clock.advance(dt.timedelta(seconds=40))  # the second press comes a little later
    await admin.send("/digest now")
    assert channel_posts(sandbox, channel) == posts
    assert "already posted" in admin.last_text
    assert len(digest_rows(sandbox)) == 1


async def test_a_second_vyraj_run_on_the_same_database_exits_with_one_line(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": sandbox.api.token,
        "TELEGRAM_API_URL": sandbox.api_url,
        "DATABASE_URL": "sqlite:///data/vyraj.sqlite3",
    }

    async def vyraj_run() -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip

    first = await vyraj_run()
    try:
        user = sandbox.user(language_code="en")
        await sandbox.api.push_update(
            sandbox.api.message_update(user.user, user.chat, {"text": "/start"})
        )
        await sandbox.api.wait_until(lambda: bool(user.bot_messages), timeout=60)  # serving
        second = await vyraj_run()
        _, stderr = await asyncio.wait_for(second.communicate(), 60)
        assert second.returncode == 2
        lines = stderr.decode().strip().splitlines()
        assert len(lines) == 1
        assert "in use by another Vyraj process" in lines[0]
        assert first.returncode is None  # the first one serves on
    finally:
        first.terminate()
        await asyncio.wait_for(first.communicate(), 60)
    assert first.returncode == 0


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_a_malformed_update_is_skipped_and_the_next_is_answered(
    sandbox: Sandbox, captured_logs: io.StringIO, webhook: bool
) -> None:
    running = sandbox
    await running.start_bot(webhook=webhook)
    user = running.user(language_code="en")
    broken = await running.api.push_update(
        {"message": {"message_id": "x", "text": "my-private-text-4242"}}
    )
    await user.send("/start")
    await running.api.wait_processed(broken)
    assert "Vyraj" in user.last_text
    log = captured_logs.getvalue()
    assert f"Skipped update {broken}" in log
    assert "my-private-text-4242" not in log
    assert "Failed to fetch updates" not in log
    assert "Traceback" not in log


async def test_a_button_with_a_huge_number_is_out_of_date(
    running: Sandbox, captured_logs: io.StringIO
) -> None:
    user = running.user(language_code="en")
    await user.send("/start")
    message = user.last_message
    assert message is not None
    await user.press(message, f"sv:agree:{2**64}:")
    assert user.last_answer == "This button is no longer valid. Send /start for a fresh menu."
    assert "Overflow" not in captured_logs.getvalue()
    assert "Traceback" not in captured_logs.getvalue()


async def send_as_anonymous_admin(sandbox: Sandbox, group: FakeChat, text: str) -> None:
    anonymous = sandbox.api.add_user(1087968824, "Group", None, "GroupAnonymousBot")
    anonymous.is_bot = True
    body = sandbox.api.message_update(
        anonymous, group, {"text": text, "sender_chat": group.as_dict()}
    )
    await sandbox.api.wait_processed(await sandbox.api.push_update(body))


async def test_an_anonymous_group_admin_is_that_chats_admin(running: Sandbox) -> None:
    owner = running.user("Owner", language_code="en")
    group = await running.group("Diaspora", added_by=owner)
    seq = running.api.last_seq
    await send_as_anonymous_admin(running, group, "/poll@vyraj_bot Where? | Poland | Georgia")
    assert any(c.method == "sendPoll" for c in running.api.calls)
    assert running.api.events_since(seq, group.id)
    # A bot other than Telegram's anonymous sender still gets nothing.
    other = running.api.add_user(5000000001, "Other", None, "other_bot")
    other.is_bot = True
    seq = running.api.last_seq
    body = running.api.message_update(other, group, {"text": "/poll@vyraj_bot Q? | A | B"})
    await running.api.wait_processed(await running.api.push_update(body))
    assert running.api.events_since(seq, group.id) == []


async def test_a_failed_admin_check_is_not_remembered(running: Sandbox) -> None:
    owner = running.user("Owner", language_code="en")
    group = await running.group("Diaspora", added_by=owner)
    admin = running.user("Admin", language_code="en").in_chat(group)
    group.statuses[admin.user.id] = "administrator"
    running.api.fail_next("getChatMember", status=502, reply="html")
    running.api.fail_next("getChatMember", status=500)
    for _failure in range(2):  # a proxy's page, then a Bot API 500: refused, not crashed
        await admin.send("/poll@vyraj_bot Where? | Poland | Georgia")
        assert "only this chat's administrators" in admin.last_text
    await admin.send("/poll@vyraj_bot Where? | Poland | Georgia")
    assert any(c.method == "sendPoll" and c.status == 200 for c in running.api.calls)
