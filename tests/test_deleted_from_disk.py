"""Deleted means gone from disk: after /forget, /wave close and a census poll's close, nothing
of the deleted rows or keys is left in the database file, its -wal or its -shm, while the bot
keeps running (secure_delete overwrites, a TRUNCATE checkpoint empties the WAL)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from bot.sandbox.driver import TelegramUser
from bot.sandbox.runtime import Sandbox
from services.privacy import Keyring, respondent_pseudonym
from tests.test_privacy_scan import database_bytes


def keyring_of(sandbox: Sandbox) -> Keyring:
    assert sandbox.bot is not None
    return sandbox.bot.vyraj.keyring


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute(sql).fetchall()


def as_stored(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def left_on_disk(path: Path, values: Mapping[str, str | bytes]) -> list[str]:
    """The names of the `values` whose bytes are still somewhere in the files."""
    found = database_bytes(path)
    return [name for name, value in values.items() if as_stored(value) in found]


@contextlib.contextmanager
def reader_holding_a_snapshot(path: Path) -> Iterator[sqlite3.Connection]:
    """Another reader in the middle of a read: a TRUNCATE checkpoint must wait for it."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as reader:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM survey_waves").fetchall()
        yield reader


async def until(condition: str, path: Path) -> None:
    """Wait until `SELECT {condition}` gives a true value in the committed data."""
    async with asyncio.timeout(10):
        while not query(path, f"SELECT {condition}")[0][0]:
            await asyncio.sleep(0.01)


async def answer_the_survey(user: TelegramUser) -> None:
    await user.send("/survey")
    await user.click("I agree")
    await user.click("Staying in Belarus")
    await user.click("QA")
    await user.click("Junior")
    await user.click("Submit")
    assert "Thank you" in user.last_text


async def test_forget_leaves_nothing_of_the_person_on_disk(sandbox: Sandbox) -> None:
    admin = sandbox.user("Admin", language_code="en")
    await sandbox.start_bot(admin_ids=str(admin.user.id))
    keyring = keyring_of(sandbox)
    await admin.send("/wave open autumn")
    group = await sandbox.group("Polls", added_by=admin)
    await admin.in_chat(group).send("/poll census Where now? | Poland | Georgia")
    census = admin.in_chat(group).last_message
    assert census is not None

    person = sandbox.user("Person", language_code="en")
    await person.send("/start")
    await person.click("🌐")
    await person.click("English")
    await person.send("karta pobytu MOS portal online")
    await person.click("👍")
    await person.send("/notify")
    await person.click("Tell me when")
    await answer_the_survey(person)
    await person.in_chat(group).click("Poland", census)
    (wave_key,) = query(sandbox.database_path, "SELECT key_sealed FROM survey_waves")[0]
    (poll_key,) = query(sandbox.database_path, "SELECT voter_key_sealed FROM polls")[0]
    (chat_sealed,) = query(sandbox.database_path, "SELECT chat_sealed FROM wave_subscribers")[0]
    uid = person.user.id
    traces: dict[str, str | bytes] = {
        "language": keyring.user_pseudonym(uid),
        "article vote": keyring.feedback_voter(uid, "pl-karta-pobytu"),
        "subscription": keyring.subscriber(uid),
        "subscriber's chat": bytes(chat_sealed),
        "response": respondent_pseudonym(keyring.wave_key_sealer.open(wave_key), uid),
        "census vote": respondent_pseudonym(keyring.poll_key_sealer.open(poll_key), uid),
    }
    assert left_on_disk(sandbox.database_path, traces) == list(traces)

    await person.send("/forget")
    await person.click("Yes, delete everything")

    assert "Nothing I keep can be linked to you any more. If you" in person.last_text
    assert left_on_disk(sandbox.database_path, traces) == []


async def test_closing_a_wave_waits_for_a_reader_before_confirming(sandbox: Sandbox) -> None:
    admin = sandbox.user("Admin", language_code="en")
    await sandbox.start_bot(admin_ids=str(admin.user.id))
    await admin.send("/wave open autumn")
    await answer_the_survey(sandbox.user("Person", language_code="en"))
    (wave_key,) = query(sandbox.database_path, "SELECT key_sealed FROM survey_waves")[0]
    key = {"sealed wave key": bytes(wave_key)}

    with reader_holding_a_snapshot(sandbox.database_path):
        closing = asyncio.create_task(admin.send("/wave close"))
        await until("key_sealed IS NULL FROM survey_waves", sandbox.database_path)
        # Committed, but the old page with the key is still in the WAL: no confirmation yet.
        assert left_on_disk(sandbox.database_path, key) == list(key)
        assert not closing.done()
    await closing

    assert "is closed and its key destroyed" in admin.last_text
    assert left_on_disk(sandbox.database_path, key) == []


async def test_a_reader_that_outlasts_the_wait_gets_an_honest_confirmation(
    sandbox: Sandbox,
) -> None:
    admin = sandbox.user("Admin", language_code="en")
    await sandbox.start_bot(admin_ids=str(admin.user.id))
    await admin.send("/wave open autumn")
    (wave_key,) = query(sandbox.database_path, "SELECT key_sealed FROM survey_waves")[0]
    key = {"sealed wave key": bytes(wave_key)}

    with reader_holding_a_snapshot(sandbox.database_path):
        await admin.send("/wave close")
        assert "overwritten within a minute" in admin.last_text
        assert left_on_disk(sandbox.database_path, key) == list(key)

    # The background retry finishes once the reader is gone.
    async with asyncio.timeout(10):
        while left_on_disk(sandbox.database_path, key):
            await asyncio.sleep(0.05)


async def test_closing_a_census_poll_leaves_no_vote_or_key_on_disk(sandbox: Sandbox) -> None:
    admin = sandbox.user("Admin", language_code="en")
    await sandbox.start_bot()
    group = await sandbox.group("Polls", added_by=admin)
    in_group = admin.in_chat(group)
    await in_group.send("/poll census Where now? | Poland | Georgia")
    census = in_group.last_message
    assert census is not None
    for name in ("A", "B"):
        await sandbox.user(name, language_code="en").in_chat(group).click("Poland", census)
    (poll_key,) = query(sandbox.database_path, "SELECT voter_key_sealed FROM polls")[0]
    traces: dict[str, str | bytes] = {"sealed poll key": bytes(poll_key)}
    for index, (voter,) in enumerate(query(sandbox.database_path, "SELECT voter FROM poll_votes")):
        traces[f"vote {index}"] = bytes(voter)
    assert len(traces) == 3
    assert left_on_disk(sandbox.database_path, traces) == list(traces)

    await in_group.send("/closepoll", reply_to=census)

    assert query(sandbox.database_path, "SELECT closed_on IS NOT NULL FROM polls") == [(1,)]
    assert left_on_disk(sandbox.database_path, traces) == []
