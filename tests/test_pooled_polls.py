"""One census poll pooled across several chats: one tally, the same counts in every copy, one
vote per person across them, closed everywhere at once with the combined results in each."""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

from bot.sandbox.driver import TelegramUser, buttons_of
from bot.sandbox.runtime import Sandbox
from bot.sandbox.server import FakeChat

K = 5
CITIES = ("Warsaw", "Vilnius", "Tbilisi")


def db_rows(sandbox: Sandbox, sql: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(sandbox.database_path)) as db:
        return db.execute(sql).fetchall()


def census_in(sandbox: Sandbox, chat: FakeChat) -> list[dict[str, Any]]:
    return [
        message
        for (chat_id, _), message in sorted(sandbox.api.messages.items())
        if chat_id == chat.id and str(message.get("text", "")).startswith("📊 Relocated?")
    ]


def results_in(sandbox: Sandbox, chat: FakeChat) -> list[str]:
    return [
        str(message.get("text") or message.get("caption"))
        for (chat_id, _), message in sorted(sandbox.api.messages.items())
        if chat_id == chat.id
        and str(message.get("text") or message.get("caption") or "").startswith("📊 Results:")
    ]


async def three_chats(sandbox: Sandbox) -> tuple[TelegramUser, list[FakeChat]]:
    await sandbox.start_bot(min_cell_size=K, census_refresh_seconds=0.05)
    admin = sandbox.user("Admin", language_code="en")
    chats = [await sandbox.group(f"Belarusians in {city}", added_by=admin) for city in CITIES]
    return admin, chats


async def pooled_by_wizard(sandbox: Sandbox) -> tuple[TelegramUser, list[FakeChat]]:
    admin, chats = await three_chats(sandbox)
    await admin.send("/newpoll")
    await admin.click("Several chats")
    for city in CITIES:
        await admin.click(city)
    assert sorted(admin.last_buttons[:3]) == sorted(f"✅ Belarusians in {c}" for c in CITIES)
    await admin.click("Done")
    assert "A Telegram poll cannot be pooled" in admin.last_text
    assert not any("Telegram poll" in button for button in admin.last_buttons)
    await admin.click("Census: buttons")
    await admin.click("My own question")
    await admin.send("Relocated?")
    await admin.send("Yes\nNo")
    await admin.click("One answer")
    await admin.click("Not automatically")
    assert all(f"Belarusians in {city}" in admin.last_text for city in CITIES)
    await admin.click("Post it")
    assert "Posted in «Belarusians in Warsaw», «Belarusians in Vilnius»" in admin.last_text
    return admin, chats


async def test_a_pooled_poll_has_one_tally_and_closes_everywhere(sandbox: Sandbox) -> None:
    admin, chats = await pooled_by_wizard(sandbox)
    copies = [census_in(sandbox, chat) for chat in chats]
    assert all(len(found) == 1 for found in copies)
    assert db_rows(sandbox, "SELECT count(*) FROM polls") == [(1,)]
    assert db_rows(sandbox, "SELECT count(*) FROM poll_copies") == [(2,)]
    # In each chat two people vote Yes and two No; one more votes Yes from every chat.
    twice = sandbox.user("Everywhere", language_code="en")
    for chat, (census,) in zip(chats, copies, strict=True):
        for option in (1, 1, 2, 2):
            await sandbox.user("Voter", language_code="en").in_chat(chat).click(option, census)
        await twice.in_chat(chat).click(1, census)
    assert sandbox.bot is not None
    await sandbox.bot.vyraj.poll_actions.census_settled()
    assert db_rows(sandbox, "SELECT count(*) FROM poll_votes") == [(13,)]  # one vote each
    shown = [[b.text for b in buttons_of(census)] for (census,) in copies]
    assert shown[0] == shown[1] == shown[2]
    assert shown[0] != ["Yes · <5", "No · <5"]  # the combined counts, above the threshold
    await admin.in_chat(chats[1]).send("/closepoll", reply_to=copies[1][0])
    for chat, (census,) in zip(chats, copies, strict=True):
        assert "This poll is closed." in census["text"]
        assert "reply_markup" not in census
        (results,) = results_in(sandbox, chat)
        assert "• Yes: 7 (54%)" in results
        assert "• No: 6 (46%)" in results
    assert db_rows(sandbox, "SELECT stage FROM poll_outbox") == [("posted",)] * 3
    assert db_rows(sandbox, "SELECT count(*) FROM poll_audit WHERE action = 'open'") == [(3,)]


async def test_only_an_admin_of_every_chat_closes_a_pooled_poll(sandbox: Sandbox) -> None:
    _admin, chats = await pooled_by_wizard(sandbox)
    local = sandbox.user("Local admin", language_code="en")
    chats[2].statuses[local.user.id] = "administrator"
    here = local.in_chat(chats[2])
    (census,) = census_in(sandbox, chats[2])
    await here.send("/closepoll", reply_to=census)
    assert "only someone who administers all of them" in here.last_text
    await here.send("/closepoll")
    await here.click(1)
    assert here.last_answer is not None
    assert "only someone who administers all of them" in here.last_answer
    assert db_rows(sandbox, "SELECT closed_on FROM polls") == [(None,)]
    assert all(results_in(sandbox, chat) == [] for chat in chats)


async def test_the_one_line_form_pools_every_chat_the_admin_runs(sandbox: Sandbox) -> None:
    admin, chats = await three_chats(sandbox)
    elsewhere = sandbox.user("Elsewhere", language_code="en")
    other = await sandbox.group("Not theirs", added_by=elsewhere)
    await admin.in_chat(chats[0]).send("/poll pooled Relocated? | Yes | No")
    assert all(len(census_in(sandbox, chat)) == 1 for chat in chats)
    assert census_in(sandbox, other) == []
    assert db_rows(sandbox, "SELECT kind FROM polls") == [("census",)]  # pooled means census
    await admin.in_chat(other).send("/poll pooled Q? | A | B")
    assert "only this chat's administrators" in admin.in_chat(other).last_text


async def test_a_pooled_poll_refused_in_one_chat_is_posted_in_none(sandbox: Sandbox) -> None:
    admin, chats = await three_chats(sandbox)
    sandbox.api.fail_next(
        "sendMessage", status=400, description="Bad Request: CHAT_WRITE_FORBIDDEN",
        chat_id=chats[2].id,
    )  # fmt: skip
    group = admin.in_chat(chats[0])
    await group.send("/poll pooled Relocated? | Yes | No")
    assert all(census_in(sandbox, chat) == [] for chat in chats)
    assert db_rows(sandbox, "SELECT count(*) FROM polls") == [(0,)]
    assert db_rows(sandbox, "SELECT count(*) FROM poll_copies") == [(0,)]
    assert "Telegram refused the poll, so nothing was posted." in group.last_text
    assert "CHAT_WRITE_FORBIDDEN" in admin.last_text  # the details, in private


async def test_nothing_to_pool_with_a_single_chat(sandbox: Sandbox) -> None:
    await sandbox.start_bot(min_cell_size=K)
    admin = sandbox.user("Admin", language_code="en")
    group = admin.in_chat(await sandbox.group("Belarusians in Gdańsk", added_by=admin))
    await group.send("/poll pooled Relocated? | Yes | No")
    assert "nothing to pool this poll with" in group.last_text
    assert db_rows(sandbox, "SELECT count(*) FROM polls") == [(0,)]
    await admin.send("/newpoll")
    assert not any("Several chats" in button for button in admin.last_buttons)


async def test_removed_from_the_first_chat_the_others_still_get_the_results(
    sandbox: Sandbox,
) -> None:
    admin, chats = await three_chats(sandbox)
    await admin.in_chat(chats[0]).send("/poll pooled Relocated? | Yes | No")
    for chat in chats:
        (census,) = census_in(sandbox, chat)
        for _ in range(2):
            await sandbox.user("Voter", language_code="en").in_chat(chat).click(1, census)
    removed = sandbox.api.bot_membership_update(chats[0], admin.user, "kicked")
    await sandbox.api.wait_processed(await sandbox.api.push_update(removed))
    assert db_rows(sandbox, "SELECT closed_on IS NOT NULL FROM polls") == [(1,)]
    assert results_in(sandbox, chats[0]) == []
    for chat in chats[1:]:
        (results,) = results_in(sandbox, chat)
        assert "• Yes: 6 (100%)" in results


async def test_a_copy_in_a_group_upgraded_to_a_supergroup_goes_on_there(sandbox: Sandbox) -> None:
    await sandbox.start_bot(min_cell_size=K, census_refresh_seconds=0.05)
    admin = sandbox.user("Admin", language_code="en")
    first = await sandbox.group("Belarusians in Warsaw", added_by=admin)
    small = await sandbox.group("Belarusians in Batumi", added_by=admin, kind="group")
    await admin.in_chat(first).send("/poll pooled Relocated? | Yes | No")
    (old_copy,) = census_in(sandbox, small)
    early = sandbox.user("Early", language_code="en")
    await early.in_chat(small).click("Yes", old_copy)
    supergroup, updates = sandbox.api.upgrade_group(small, admin.user, -1009000000456)
    for update in updates:
        await sandbox.api.wait_processed(await sandbox.api.push_update(update))

    (new_copy,) = census_in(sandbox, supergroup)  # posted again where voting goes on
    assert sandbox.bot is not None
    new_key = sandbox.bot.vyraj.keyring.chat_key(supergroup.id)
    assert db_rows(sandbox, "SELECT chat_key, message_id FROM poll_copies") == [
        (new_key, new_copy["message_id"])
    ]
    early_there = early.in_chat(supergroup)
    await early_there.click("Yes", new_copy)
    assert early_there.last_answer == "Your vote: Yes"
    for _ in range(K - 1):
        await sandbox.user("Voter", language_code="en").in_chat(supergroup).click(1, new_copy)
    await admin.in_chat(first).send("/closepoll")
    await admin.in_chat(first).click(1)
    assert "This poll is closed." in new_copy["text"]
    (results,) = results_in(sandbox, supergroup)
    assert "• Yes: 5 (100%)" in results  # the early voter counted once, in either copy
