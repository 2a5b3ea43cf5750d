"""No Telegram user id reaches the database file, its WAL, or the logs, in any encoding."""

from __future__ import annotations

import io
from pathlib import Path

from bot.sandbox.driver import TelegramUser
from bot.sandbox.runtime import Sandbox


def id_encodings(user_id: int) -> dict[str, bytes]:
    return {
        "decimal": str(user_id).encode(),
        "int64 little-endian": user_id.to_bytes(8, "little", signed=True),
        "int64 big-endian": user_id.to_bytes(8, "big", signed=True),
        "sqlite 6-byte big-endian": user_id.to_bytes(6, "big", signed=True),
    }


def find_ids(blob: bytes, user_ids: list[int]) -> list[str]:
    return [
        f"{user_id} as {name}"
        for user_id in user_ids
        for name, pattern in id_encodings(user_id).items()
        if pattern in blob
    ]


def database_bytes(path: Path) -> bytes:
    return b"".join(
        candidate.read_bytes()
        for candidate in (
            path,
            path.with_name(path.name + "-wal"),
            path.with_name(path.name + "-shm"),
        )
        if candidate.exists()
    )


async def exercise_every_flow(box: Sandbox) -> list[int]:
    people = [
        box.user("Alesia", language_code="be", user_id=2**32 + 12_345),
        box.user("Maksim", language_code="ru", user_id=2**40 + 777),
        box.user("Ann", language_code=None, user_id=7_000_000_123),
    ]
    for person in people:
        await person.send("/start")
        await person.click("🌐")  # Language
        await person.click("English")
        await person.send("/relocate")
        await person.click(1)
        await person.click(1)
        await person.click("Report outdated")
        await person.send(f"outdated, write to me: {person.user.id}")
        assert "Thank you" in person.last_text
        await person.send("/privacy")
        await person.send("/cancel")
        await person.send("free text with my id " + str(person.user.id))
        await person.send("/nonsense")
        message = person.last_message
        assert message is not None
        await person.press(message, "lang:xx")
    group = await box.group("Chat", added_by=people[0])
    await people[0].in_chat(group).send("/help@vyraj_bot")
    await exercise_the_survey(box, people)
    return [person.user.id for person in people]


async def exercise_the_survey(box: Sandbox, people: list[TelegramUser]) -> None:
    """Subscriptions, a wave answered by everyone, stats, /forget, a closed wave and a new
    one announced to the subscribers."""
    admin = people[0]
    await box.stop_bot()
    await box.start_bot(admin_ids=str(admin.user.id), min_cell_size=5)
    for person in people:
        await person.send("/notify")
        await person.click("Tell me when")
    await admin.send("/wave open first")
    for person in people:
        await person.send("/survey")
        await person.click("I agree")
        await person.click("Left after 24 Feb 2022")
        await person.click("Poland")
        for _ in range(5):
            await person.click(1)
        await person.click("Submit")
    await people[1].send("/stats")
    await admin.send("/stats full")
    await people[2].send("/forget")
    await people[2].click(1)
    await admin.send("/wave close")
    await admin.send("/wave open second")
    assert box.bot is not None
    await box.bot.vyraj.broadcaster.wait()
    assert "A new Vyraj survey wave is open: second" in people[1].last_text
    await exercise_polls(box, people)


async def exercise_polls(box: Sandbox, people: list[TelegramUser]) -> None:
    """A census poll voted on by everyone, a Telegram poll, the wizard, a close."""
    group = await box.group("Polls", added_by=people[0])
    admin = people[0].in_chat(group)
    await admin.send("/poll census Where now? | Poland | Georgia")
    census = admin.last_message
    assert census is not None
    for person in people:
        await person.in_chat(group).click("Poland", census)
    await admin.send("/poll Native? | Yes | No | close: in 2 days")
    await people[0].send("/newpoll")
    await people[0].click("Polls")
    await people[0].click("Census")
    await people[0].click("Your status?")
    await people[0].click("Not automatically")
    await people[0].click("Post it")
    await admin.send("/closepoll", reply_to=census)
    await admin.send("/polls")


async def test_database_wal_and_logs_hold_no_user_id(
    sandbox: Sandbox, captured_logs: io.StringIO
) -> None:
    await sandbox.start_bot()
    user_ids = await exercise_every_flow(sandbox)

    while_running = database_bytes(sandbox.database_path)
    assert sandbox.database_path.with_name(sandbox.database_path.name + "-wal").exists()
    assert find_ids(while_running, user_ids) == []

    await sandbox.stop_bot()
    assert find_ids(database_bytes(sandbox.database_path), user_ids) == []

    logs = captured_logs.getvalue()
    assert "is handled" in logs  # the capture really saw aiogram's per-update log lines
    assert find_ids(logs.encode(), user_ids) == []


def test_the_scan_would_notice_a_leak(tmp_path: Path) -> None:
    user_id = 2**32 + 99
    for encoded in id_encodings(user_id).values():
        assert find_ids(b"xx" + encoded + b"yy", [user_id])
