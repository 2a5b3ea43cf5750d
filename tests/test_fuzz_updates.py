"""A seeded fuzz of updates and forged button presses through the real bot and the local Bot API
server: no handler error, no traceback, no hang, no row a non-admin must not change, and the bot
still answers /help afterwards. Bounded by count; the seed is printed so a failure reproduces
(VYRAJ_FUZZ_SEED=<seed> VYRAJ_FUZZ_UPDATES=<n> to replay or run longer)."""

from __future__ import annotations

import contextlib
import io
import os
import random
import sqlite3
from typing import Any

from bot.sandbox.driver import TelegramUser, buttons_of
from bot.sandbox.runtime import Sandbox
from bot.sandbox.server import FakeChat

K = 5
SEED = int(os.environ.get("VYRAJ_FUZZ_SEED", "20261124"))
UPDATES = int(os.environ.get("VYRAJ_FUZZ_UPDATES", "300"))
# What a non-admin must never change, whatever they send or press. Census votes (poll_votes,
# the shown tallies) and a person's own settings are theirs to change.
GUARDED = {
    "chats": "SELECT * FROM chats",
    "polls": "SELECT id, chat_key, kind, question, options, multiple, message_id, "
    "telegram_poll_id, opened_on, close_at, closed_on, voter_key_sealed, hidden_counts FROM polls",
    "poll_copies": "SELECT * FROM poll_copies",
    "poll_outbox": "SELECT * FROM poll_outbox",
    "poll_audit": "SELECT * FROM poll_audit",
    "survey_waves": "SELECT * FROM survey_waves",
    "survey_snapshots": "SELECT * FROM survey_snapshots",
    "digests": "SELECT * FROM digests",
}
COMMANDS = (
    "/start", "/help", "/poll", "/poll census", "/poll pooled", "/poll hidden multi", "/polls",
    "/closepoll", "/newpoll", "/wave", "/wave open", "/wave close", "/digest", "/stats",
    "/stats full", "/forget", "/survey", "/notify", "/cancel", "/lang", "/privacy", "/relocate",
    "/ask", "/kbstats", "/kbnotes", "/figures", "/guide", "/start survey", "/poll@vyraj_bot",
    "/closepoll@vyraj_bot", "/nonsense",
)  # fmt: skip
PIECES = (
    "Q?", "|", " | ", "a", "b", "<b>", "</i>", "&amp;", "&", "<", ">", "close: in 2 days",
    "close: 1999-01-01", "census", "pooled", "hidden", "multi", "where", "status", "🙂",
    "\u202e", "\u200b", "ў", "Ё", "x" * 120, "0", "-1", "99999999999999999999", "%s", "{k}",
    "'; DROP TABLE polls; --", "\n", "@vyraj_bot",
)  # fmt: skip
ODD_NUMBERS = ("0", "-1", "1", "2", "3", "99", "4294967297", "99999999999999999999", "", "x")


def db_rows(sandbox: Sandbox, sql: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(sandbox.database_path)) as db:
        return db.execute(sql).fetchall()


def guarded(sandbox: Sandbox) -> dict[str, list[tuple[Any, ...]]]:
    return {table: db_rows(sandbox, sql) for table, sql in GUARDED.items()}


def rendered_callback_data(sandbox: Sandbox) -> set[str]:
    return {
        button.callback_data
        for message in sandbox.api.messages.values()
        for button in buttons_of(message)
        if button.callback_data
    }


def garbage_text(rng: random.Random) -> str:
    text = "".join(rng.choice(PIECES) + rng.choice(("", " ")) for _ in range(rng.randint(0, 8)))
    if rng.random() < 0.6:
        text = f"{rng.choice(COMMANDS)} {text}"
    return text[:4096] or "."


def forged_data(rng: random.Random, seen: list[str]) -> str:
    roll = rng.random()
    if roll < 0.4 and seen:
        parts = rng.choice(seen).split(":")
        index = rng.randrange(len(parts))
        parts[index] = rng.choice(ODD_NUMBERS) if index else rng.choice(("pv", "pc", "nw", "zz"))
        return ":".join(parts)[:64] or "x"
    if roll < 0.6 and seen:
        return rng.choice(seen)  # replayed as is, by someone else
    if roll < 0.8:
        prefix = rng.choice(("pv", "pc", "nw", "menu", "lang", "wave", "forget", "kb"))
        fields = [rng.choice((*ODD_NUMBERS, "post", "yes", "chat", "pool", "done", "census"))]
        return ":".join([prefix, *fields * rng.randint(1, 3)])[:64]
    length = rng.randint(1, 64)
    return "".join(rng.choice("abc:01234567890_-|%\\ ў🙂") for _ in range(length))[:64] or "x"


def malformed_update(rng: random.Random, chat: FakeChat) -> dict[str, Any]:
    return rng.choice(
        (
            {"message": {"message_id": "x", "text": "/poll Q? | a | b"}},
            {"message": {"message_id": 1, "date": 0, "chat": {"id": chat.id}}},
            {"callback_query": {"id": 7, "data": "pc:1"}},
            {"poll": {"id": "unknown", "question": "Q?", "options": "no"}},
            {"my_chat_member": {"chat": {"id": chat.id, "type": chat.type}}},
            {"edited_channel_post": None},
            {"something_new": {"from": "a future Bot API"}},
        )
    )


async def fuzz_one(
    sandbox: Sandbox,
    rng: random.Random,
    actors: list[TelegramUser],
    seen: list[str],
) -> None:
    actor = rng.choice(actors)
    hosts = actor.bot_messages or [
        m for (c, _), m in sandbox.api.messages.items() if c == actor.chat.id
    ]
    roll = rng.random()
    if roll < 0.35:
        reply_to = rng.choice(hosts) if hosts and rng.random() < 0.3 else None
        await actor.send(garbage_text(rng), reply_to=reply_to)
    elif roll < 0.75 and hosts:
        await actor.press(rng.choice(hosts), forged_data(rng, seen))
    elif roll < 0.82:
        await actor.send_payload({"text": garbage_text(rng)}, kind="edited_message")
    elif roll < 0.87:
        await actor.inline(garbage_text(rng)[:256])
    elif roll < 0.92:
        counts = [{"text": "a", "voter_count": rng.randint(0, 9)}] * 2
        update = await sandbox.api.push_update(
            {
                "poll": {
                    "id": f"poll{rng.randint(0, 99)}-forged",
                    "question": "Q?",
                    "options": counts,
                    "total_voter_count": 9,
                    "is_closed": False,
                    "is_anonymous": True,
                    "type": "regular",
                    "allows_multiple_answers": False,
                }
            }
        )
        await sandbox.api.wait_processed(update)
    else:
        update = await sandbox.api.push_update(malformed_update(rng, actor.chat))
        await sandbox.api.wait_processed(update)


async def test_seeded_fuzz_of_updates_and_forged_buttons(
    sandbox: Sandbox, captured_logs: io.StringIO
) -> None:
    print(f"fuzz seed {SEED}, {UPDATES} updates")  # shown when the test fails
    admin = sandbox.user("Admin", language_code="en")
    await sandbox.start_bot(
        admin_ids=str(admin.user.id), min_cell_size=K, census_refresh_seconds=0.05
    )
    warsaw = await sandbox.group("Belarusians in Warsaw", added_by=admin)
    vilnius = await sandbox.group("Belarusians in Vilnius", added_by=admin)
    channel = await sandbox.channel("Vyraj news", owner=admin)
    # What there is to attack: open polls of each kind, a pooled one, a close chooser, and the
    # admin's own wizard half-way through (its buttons are replayed by others).
    await admin.in_chat(warsaw).send("/poll census Relocated? | Yes | No")
    await admin.in_chat(warsaw).send("/poll Where? | Poland | Georgia | Serbia")
    await admin.in_chat(vilnius).send("/poll pooled hidden Staying? | Yes | No")
    await admin.in_chat(channel).send("/poll census Plans? | Stay | Move")
    await admin.in_chat(warsaw).send("/closepoll")
    await admin.in_chat(channel).send("/closepoll")
    await admin.send("/newpoll")
    seen = set(rendered_callback_data(sandbox))
    for button in ("Several chats", "Warsaw", "Vilnius", "Done", "Census", "My own question"):
        await admin.click(button)
        seen.update(rendered_callback_data(sandbox))  # the wizard edits its buttons away
    assert any(data.startswith("pc:") for data in seen)
    assert any(data.startswith("nw:") for data in seen)

    member = sandbox.user("Member", language_code="be")
    outsider = sandbox.user("Outsider", language_code="ru")
    reader = sandbox.user("Reader", language_code="en")
    warsaw.statuses[member.user.id] = "member"
    vilnius.statuses[member.user.id] = "member"
    channel.statuses[reader.user.id] = "member"
    actors = [
        member,
        outsider,
        reader,
        member.in_chat(warsaw),
        member.in_chat(vilnius),
        outsider.in_chat(warsaw),
        reader.in_chat(channel),
    ]
    before = guarded(sandbox)
    rng = random.Random(SEED)
    replayable = sorted(seen)
    for _ in range(UPDATES):
        await fuzz_one(sandbox, rng, actors, replayable)

    assert guarded(sandbox) == before, f"seed {SEED}"
    log = captured_logs.getvalue()
    assert "Traceback" not in log, f"seed {SEED}"
    assert "Unhandled" not in log, f"seed {SEED}"
    assert "ERROR" not in log, f"seed {SEED}"
    await outsider.send("/help")
    assert "/start" in outsider.last_text
