"""Waves: one response per person, keys destroyed on close, the new-wave broadcast, /stats."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.sandbox.driver import TelegramUser
from bot.sandbox.runtime import Sandbox
from services.clock import ManualClock
from services.forget import forget_person
from services.privacy import Keyring
from services.survey.waves import open_wave, submit_response
from storage import open_storage

WARSAW = ZoneInfo("Europe/Warsaw")  # TIMEZONE
STAYING = {"status": "staying", "role": "qa", "seniority": "junior"}


async def start_with_admin(sandbox: Sandbox, **settings: object) -> TelegramUser:
    admin = sandbox.user("Admin", language_code="en")
    await sandbox.start_bot(admin_ids=str(admin.user.id), min_cell_size=5, **settings)
    return admin


async def answer_staying(user: TelegramUser, role: str = "QA") -> None:
    await user.send("/survey")
    await user.click("I agree")
    await user.click("Staying in Belarus")
    await user.click(role)
    await user.click("Junior")
    await user.click("Submit")
    assert "Thank you" in user.last_text


def database_bytes(path: Path) -> bytes:
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def test_closing_a_wave_destroys_its_key_and_unlinks_its_answers(sandbox: Sandbox) -> None:
    admin = await start_with_admin(sandbox)
    await admin.send("/wave close")
    assert "No wave is open" in admin.last_text
    await admin.send("/wave open spring")
    await admin.send("/wave open again")
    assert "already open" in admin.last_text
    user = sandbox.user(language_code="en")
    await answer_staying(user)
    await answer_staying(user, role="DevOps")  # re-submitting replaces the response
    with contextlib.closing(sqlite3.connect(sandbox.database_path)) as db:
        (sealed_key,) = db.execute("SELECT key_sealed FROM survey_waves").fetchone()
        assert db.execute("SELECT count(*) FROM survey_responses").fetchone() == (1,)
    assert sealed_key in database_bytes(sandbox.database_path)

    await admin.send("/wave close")
    assert "key destroyed" in admin.last_text
    with contextlib.closing(sqlite3.connect(sandbox.database_path)) as db:
        assert db.execute("SELECT key_sealed FROM survey_waves").fetchone() == (None,)
    # Not in the file, not in the WAL: overwritten (secure_delete) and checkpointed.
    assert sealed_key not in database_bytes(sandbox.database_path)

    # /forget can no longer find the closed wave's answer; it stays in the anonymous totals.
    await user.send("/forget")
    await user.click("Yes, delete everything")
    with contextlib.closing(sqlite3.connect(sandbox.database_path)) as db:
        assert db.execute("SELECT count(*) FROM survey_responses").fetchone() == (1,)
    await user.send("/survey")
    assert "No survey wave is open" in user.last_text
    await admin.send("/wave")
    assert "spring" in admin.last_text
    assert "key destroyed" in admin.last_text


async def test_stats_publish_nothing_below_k_and_full_stats_are_for_admins(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    admin = await start_with_admin(sandbox)
    member = sandbox.user(language_code="en")
    await member.send("/stats")
    assert "No survey has run yet" in member.last_text
    await admin.send("/wave open autumn")
    people = [sandbox.user(f"P{i}", language_code="en") for i in range(6)]
    for person in people[:4]:
        await answer_staying(person)
    await member.send("/stats")
    # The heading and the threshold, and no count at all: 4 people answered so far.
    assert member.last_text == (
        f"📊 Survey “autumn”, open since {clock.today(WARSAW).isoformat()}\n\n"
        "Not enough answers yet: figures appear once at least 5 people have answered."
    )
    await answer_staying(people[4], role="DevOps")  # the 5th: the first snapshot
    await answer_staying(people[5])  # one more respondent does not move it
    await member.send("/stats")
    assert "Answers: 5" in member.last_text
    assert "Staying in Belarus: 5 (100%)" in member.last_text
    await member.send("/stats full")
    assert "only for the bot's admins" in member.last_text
    await admin.send("/stats full")
    documents = [m for m in admin.bot_messages if "document" in m]
    assert len(documents) == 1
    csv_text = sandbox.api.files[documents[0]["document"]["file_id"]].decode()
    texts = "\n".join(m.get("text", "") for m in admin.bot_messages)
    # In the snapshot QA has 4, DevOps 1: both below 5, so both fold into "Other".
    assert "• Other (smaller groups): 5 (100%)" in texts
    assert "QA" not in texts
    assert "DevOps" not in texts
    assert "role,*other*,,5" in csv_text
    assert ",qa," not in csv_text
    assert ",devops," not in csv_text
    assert "status,staying,,5" in csv_text


async def test_the_broadcast_paces_itself_honours_429_and_drops_blocked(
    sandbox: Sandbox,
) -> None:
    admin = await start_with_admin(sandbox)
    subscribers = [sandbox.user(f"S{i}", language_code="ru") for i in range(40)]
    for person in subscribers:
        await person.send("/notify")
        await person.click(1)
    assert "🔔" in subscribers[0].last_text
    subscribers[3].user.blocked_bot = True
    sandbox.api.fail_next("sendMessage", status=429, retry_after=1, chat_id=subscribers[9].user.id)
    started = len(sandbox.api.calls)
    await admin.send("/wave open winter")
    assert sandbox.bot is not None
    sent = await sandbox.bot.vyraj.broadcaster.wait()
    assert sent == 39
    notices = [
        call
        for call in sandbox.api.calls[started:]
        if call.method == "sendMessage" and "/notify" in str(call.params.get("text"))
    ]
    delivered = Counter(int(call.params["chat_id"]) for call in notices if call.status == 200)
    assert sorted(delivered) == sorted(p.user.id for p in subscribers if p is not subscribers[3])
    assert set(delivered.values()) == {1}  # nobody twice, the 429 included
    throttled = next(call for call in notices if call.status == 429)
    retried = notices[notices.index(throttled) + 1]
    assert retried.at - throttled.at >= 1.0  # retry_after honoured
    times = sorted(call.at for call in notices)
    assert all(later - earlier >= 1.0 for earlier, later in zip(times, times[25:], strict=False))
    with contextlib.closing(sqlite3.connect(sandbox.database_path)) as db:
        assert db.execute("SELECT count(*) FROM wave_subscribers").fetchone() == (39,)
    assert (
        "Открыта новая волна" in subscribers[0].last_text or "winter" in subscribers[0].last_text
    )


async def test_a_restart_mid_broadcast_messages_nobody_twice(sandbox: Sandbox) -> None:
    admin = await start_with_admin(sandbox)
    subscribers = [sandbox.user(f"S{i}", language_code="en") for i in range(30)]
    for person in subscribers:
        await person.send("/notify")
        await person.click(1)
    started = len(sandbox.api.calls)
    await admin.send("/wave open summer")
    await sandbox.api.wait_until(
        lambda: sum(1 for c in sandbox.api.calls[started:] if "/notify" in str(c.params)) >= 8
    )
    await sandbox.stop_bot()  # a crash or a deploy in the middle of the broadcast
    await sandbox.start_bot(min_cell_size=5)
    assert sandbox.bot is not None
    await sandbox.bot.vyraj.broadcaster.wait()
    delivered = Counter(
        int(call.params["chat_id"])
        for call in sandbox.api.calls[started:]
        if call.method == "sendMessage" and "/notify" in str(call.params.get("text"))
    )
    assert max(delivered.values()) == 1
    assert len(delivered) >= len(subscribers) - 1  # at most the one in flight is skipped


async def test_a_hundred_concurrent_submissions_make_one_response(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path / 'v.sqlite3'}")
    keyring = Keyring(b"k" * 32)
    try:
        wave = await open_wave(storage, keyring, "race", dt.date(2026, 11, 23))
        answers = [{**STAYING, "role": role} for role in ("qa", "devops") * 50]
        await asyncio.gather(
            *(
                submit_response(storage, keyring, wave, 4242, a, dt.date(2026, 11, 23), 5)
                for a in answers
            )
        )
        groups = await storage.survey.response_groups(wave.id)
        assert sum(count for _, count in groups) == 1
        await submit_response(storage, keyring, wave, 4343, STAYING, dt.date(2026, 11, 23), 5)
        forgotten = await forget_person(storage, keyring, 4242)
        assert forgotten.responses == 1
        assert sum(count for _, count in await storage.survey.response_groups(wave.id)) == 1
    finally:
        await storage.close()


async def test_full_stats_show_the_trend_across_waves(sandbox: Sandbox) -> None:
    admin = await start_with_admin(sandbox)
    await admin.send("/wave open first")
    for index in range(5):
        await answer_staying(sandbox.user(f"F{index}", language_code="en"))
    await admin.send("/wave close")
    await admin.send("/wave open second")
    await admin.send("/stats full")
    texts = "\n".join(m.get("text", "") for m in admin.bot_messages)
    assert "Across waves" in texts
    assert "• first (N = 5): Staying in Belarus 100%" in texts
    assert "• second: Not enough answers yet" in texts


@pytest.mark.pinned_instants
async def test_waves_are_dated_by_the_day_in_the_time_zone(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    admin = await start_with_admin(sandbox)
    opened = clock.today(WARSAW)
    await admin.send("/wave open dated")
    await admin.send("/stats")
    assert f"“dated”, open since {opened.isoformat()}" in admin.last_text
    clock.advance(dt.timedelta(hours=1))  # across midnight or a DST change at some instants
    closed = clock.today(WARSAW)
    await admin.send("/wave close")
    await admin.send("/wave")
    assert f"dated: {opened.isoformat()} to {closed.isoformat()}, key destroyed" in admin.last_text


def unfinished_surveys(path: Path) -> list[tuple[int | None]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT wave_id FROM fsm_states").fetchall()


async def test_closing_a_wave_deletes_its_unfinished_surveys(sandbox: Sandbox) -> None:
    admin = await start_with_admin(sandbox)
    await admin.send("/wave open spring")
    user = sandbox.user(language_code="en")
    await user.send("/survey")
    await user.click("I agree")
    await user.click("Staying in Belarus")
    assert unfinished_surveys(sandbox.database_path) == [(1,)]

    await admin.send("/wave close")

    assert unfinished_surveys(sandbox.database_path) == []
    await user.send("/survey")
    assert "No survey wave is open" in user.last_text
    await admin.send("/wave open summer")
    await user.send("/survey")
    assert "✅ I agree" in user.last_buttons  # a fresh start, nothing carried over
    assert "continue where you stopped" not in user.last_text


async def test_survey_clears_a_dialogue_left_over_from_a_closed_wave(sandbox: Sandbox) -> None:
    admin = await start_with_admin(sandbox)
    await admin.send("/wave open spring")
    user = sandbox.user(language_code="en")
    await user.send("/survey")
    await user.click("I agree")
    with contextlib.closing(sqlite3.connect(sandbox.database_path)) as db, db:
        # As kept before dialogues named their wave: closing it cannot find this one.
        db.execute("UPDATE fsm_states SET wave_id = NULL")
    await admin.send("/wave close")
    assert unfinished_surveys(sandbox.database_path) == [(None,)]

    await user.send("/survey")

    assert "No survey wave is open" in user.last_text
    assert unfinished_surveys(sandbox.database_path) == []
