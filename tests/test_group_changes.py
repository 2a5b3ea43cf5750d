"""Groups that change: a group upgraded to a supergroup (a new chat id) keeps its record,
its open polls and their scheduled closes, and its census polls go on in the supergroup; a
demoted administrator loses the right to run polls at once, not when the cache expires."""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

import pytest

from bot.sandbox.runtime import Sandbox
from bot.sandbox.server import FakeChat

K = 5
SUPERGROUP_ID = -1009000000123


def db_rows(sandbox: Sandbox, sql: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(sandbox.database_path)) as db:
        return db.execute(sql).fetchall()


def texts(sandbox: Sandbox, chat: FakeChat) -> list[str]:
    return [
        str(m.get("text") or m.get("caption") or "")
        for (c, _), m in sorted(sandbox.api.messages.items())
        if c == chat.id
    ]


@pytest.mark.parametrize("told", ["both chats", "the new chat only"])
async def test_an_upgraded_group_keeps_its_polls_and_their_closes(
    sandbox: Sandbox, told: str
) -> None:
    await sandbox.start_bot(min_cell_size=K)
    owner = sandbox.user("Owner", language_code="en")
    group = await sandbox.group("Belarusians in Batumi", added_by=owner, kind="group")
    in_group = owner.in_chat(group)
    await in_group.send("/poll census Staying the winter? | Yes | No | close: in 3 days")
    old_census = in_group.last_message
    assert old_census is not None
    early = sandbox.user("Early", language_code="en").in_chat(group)
    await early.click("Yes", old_census)
    await in_group.send("/poll Flat or house? | Flat | House")
    supergroup, updates = sandbox.api.upgrade_group(group, owner.user, SUPERGROUP_ID)
    if told == "the new chat only":
        updates = updates[1:]
    for update in updates:
        await sandbox.api.wait_processed(await sandbox.api.push_update(update))

    assert sandbox.bot is not None
    vyraj = sandbox.bot.vyraj
    new_key = vyraj.keyring.chat_key(SUPERGROUP_ID)
    assert db_rows(sandbox, "SELECT chat_key, kind, active FROM chats") == [
        (new_key, "supergroup", 1)
    ]
    assert db_rows(sandbox, "SELECT DISTINCT chat_key FROM polls") == [(new_key,)]
    assert db_rows(sandbox, "SELECT DISTINCT chat_key FROM poll_audit") == [(new_key,)]
    assert vyraj.scheduler.next_run("poll-close-1") is not None

    in_supergroup = owner.in_chat(supergroup)
    await in_supergroup.send("/polls")
    assert "Staying the winter?" in in_supergroup.last_text
    assert "Flat or house?" in in_supergroup.last_text
    # The census goes on in the supergroup, with the vote cast before the upgrade.
    census = next(m for m in in_supergroup.bot_messages if "Staying the winter?" in m["text"])
    await early.in_chat(supergroup).click("Yes", census)
    assert early.last_answer == "Your vote: Yes"
    await early.click("No", old_census)
    assert early.last_answer == "This poll is not available."
    for index in range(4):
        voter = sandbox.user(f"V{index}", language_code="en").in_chat(supergroup)
        await voter.click("Yes", census)
    await vyraj.poll_actions.close(1)  # as the scheduled close would
    assert any("• Yes: 5" in text for text in texts(sandbox, supergroup))
    assert "This poll is closed." in census["text"]


async def test_an_unknown_group_upgraded_records_nothing(sandbox: Sandbox) -> None:
    await sandbox.start_bot(min_cell_size=K)
    owner = sandbox.user("Owner", language_code="en")
    group = sandbox.api.create_group(-4242, "Unknown", kind="group")
    group.statuses[sandbox.api.bot.id] = "member"
    _supergroup, updates = sandbox.api.upgrade_group(group, owner.user, SUPERGROUP_ID)
    for update in updates:
        await sandbox.api.wait_processed(await sandbox.api.push_update(update))
    assert db_rows(sandbox, "SELECT count(*) FROM chats") == [(0,)]


async def test_a_demoted_admin_loses_the_right_at_once(sandbox: Sandbox) -> None:
    await sandbox.start_bot(min_cell_size=K)
    owner = sandbox.user("Owner", language_code="en")
    group = await sandbox.group(
        "Belarusians in Kraków", added_by=owner, bot_status="administrator"
    )
    helper = sandbox.user("Helper", language_code="en").in_chat(group)
    promoted = sandbox.api.member_status_update(group, owner.user, helper.user, "administrator")
    assert promoted is not None
    await sandbox.api.wait_processed(await sandbox.api.push_update(promoted))
    await helper.send("/polls")
    assert "No polls in this chat yet" in helper.last_text  # allowed, and now cached
    demoted = sandbox.api.member_status_update(group, owner.user, helper.user, "member")
    assert demoted is not None
    await sandbox.api.wait_processed(await sandbox.api.push_update(demoted))
    await helper.send("/poll Q? | A | B")
    assert "only this chat's administrators" in helper.last_text
    assert db_rows(sandbox, "SELECT count(*) FROM polls") == [(0,)]


async def test_the_bot_asks_telegram_for_chat_member_updates(sandbox: Sandbox) -> None:
    await sandbox.start_bot(min_cell_size=K)
    await sandbox.user("Someone", language_code="en").send("/start")  # fetched by getUpdates
    polls = [call for call in sandbox.api.calls if call.method == "getUpdates"]
    assert "chat_member" in polls[-1].params["allowed_updates"]


async def test_without_admin_rights_no_chat_member_update_comes(sandbox: Sandbox) -> None:
    await sandbox.start_bot(min_cell_size=K)
    owner = sandbox.user("Owner", language_code="en")
    group = await sandbox.group("Plain member bot", added_by=owner)
    helper = sandbox.user("Helper", language_code="en")
    update = sandbox.api.member_status_update(group, owner.user, helper.user, "administrator")
    assert update is None
