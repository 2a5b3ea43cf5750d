"""/forget reaches every table: the columns that can hold a person's pseudonym are found in the
schema itself, so a new one fails here until `forget_person` covers it."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import astuple
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.fsm_storage import PseudonymousFsmStorage
from services.forget import forget_person
from services.privacy import Keyring, respondent_pseudonym
from services.survey.waves import open_wave, submit_response
from storage import ChatRecord, SqliteStorage, open_storage

DAY = dt.date(2026, 11, 23)
KEYRING = Keyring(b"f" * 32)
PERSON, BYSTANDER = 5_000_000_001, 5_000_000_002
STAYING = {"status": "staying", "role": "qa", "seniority": "junior"}
# The schema's convention: a column holding a person's pseudonym is named after the role the
# person plays, or ends in `_key`.
PSEUDONYM_NAME = re.compile(r"^(person|voter|respondent|subscriber|admin|key)$|_key$")
# Columns the convention catches that never name a person, and why.
NOT_A_PERSON = {
    ("chats", "chat_key"): "a group or channel",
    ("polls", "chat_key"): "a group or channel",
    ("poll_audit", "chat_key"): "a group or channel",
    ("poll_copies", "chat_key"): "a group or channel",
    ("poll_outbox", "chat_key"): "a group or channel",
    ("kb_unanswered", "question_key"): "the folded question, nobody's",
    ("digests", "period_key"): "a calendar period",
}


def pseudonym_columns(db: sqlite3.Connection) -> set[tuple[str, str]]:
    """Every (table, column) of the schema that can hold a person's pseudonym."""
    return {
        (table, column)
        for table, column in every_column(db)
        if PSEUDONYM_NAME.search(column) and (table, column) not in NOT_A_PERSON
    }


def every_column(db: sqlite3.Connection) -> list[tuple[str, str]]:
    tables = [
        str(row[0])
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return [
        (table, str(info[1]))
        for table in tables
        for info in db.execute(f"PRAGMA table_info({table})")
    ]


def columns_holding(db: sqlite3.Connection, values: set[object]) -> set[tuple[str, str]]:
    """Every (table, column), whatever its name, with a row holding one of `values`."""
    return {
        (table, column)
        for table, column in every_column(db)
        for (value,) in db.execute(f"SELECT {column} FROM {table}")
        if value in values
    }


def private_chat(user_id: int) -> StorageKey:
    return StorageKey(bot_id=1, chat_id=user_id, user_id=user_id)


async def pseudonyms_of(storage: SqliteStorage, path: Path, user_id: int) -> set[object]:
    """Everything the bot can compute from the person's id that keys a row."""
    found: set[object] = {
        KEYRING.user_pseudonym(user_id),
        KEYRING.subscriber(user_id),
        KEYRING.audit_admin(user_id),
        KEYRING.fsm_pseudonym(astuple(private_chat(user_id))),
    }
    with contextlib.closing(sqlite3.connect(path)) as db:
        articles = [str(row[0]) for row in db.execute("SELECT article_id FROM kb_votes")]
    found |= {KEYRING.feedback_voter(user_id, article) for article in articles}
    wave = await storage.survey.current_wave()
    assert wave is not None
    assert wave.key_sealed is not None
    found.add(respondent_pseudonym(KEYRING.wave_key_sealer.open(wave.key_sealed), user_id))
    for poll in await storage.polls.open_polls():
        assert poll.voter_key_sealed is not None
        key = KEYRING.poll_key_sealer.open(poll.voter_key_sealed)
        found.add(respondent_pseudonym(key, user_id))
    return found


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "vyraj.sqlite3"


@pytest.fixture
async def storage(path: Path) -> AsyncIterator[SqliteStorage]:
    opened = await open_storage(f"sqlite:///{path}")
    try:
        yield opened
    finally:
        await opened.close()


async def leave_traces(storage: SqliteStorage, user_id: int, poll_id: int) -> None:
    """The person uses every feature that keeps something about them."""
    wave = await storage.survey.current_wave()
    assert wave is not None
    await submit_response(storage, KEYRING, wave, user_id, STAYING, DAY, 10)
    fsm = PseudonymousFsmStorage(storage, KEYRING)
    await fsm.set_state(private_chat(user_id), "PollWizard:question")
    poll = await storage.polls.get_poll(poll_id)
    assert poll is not None
    assert poll.voter_key_sealed is not None
    poll_key = KEYRING.poll_key_sealer.open(poll.voter_key_sealed)
    async with storage.transaction() as tx:
        await tx.preferences.set_locale(KEYRING.user_pseudonym(user_id), "ru")
        await tx.subscriptions.subscribe(KEYRING.subscriber(user_id), b"sealed chat", 0)
        # "removed" stands for an article since taken out of the guide.
        for article in ("visa", "removed"):
            await tx.knowledge_stats.vote(KEYRING.feedback_voter(user_id, article), article, True)
        await tx.polls.vote(poll_id, respondent_pseudonym(poll_key, user_id), (0,))
        await tx.polls.audit("2026-11-23T10:00", "open", b"chat", KEYRING.audit_admin(user_id), 1)


async def open_wave_and_poll(storage: SqliteStorage) -> int:
    await open_wave(storage, KEYRING, "autumn", DAY)
    async with storage.transaction() as tx:
        await tx.polls.save_chat(ChatRecord(b"chat", b"sealed", "group", active=True))
        poll = await tx.polls.create_poll(
            b"chat",
            "census",
            "Where?",
            ("PL", "GE"),
            False,
            DAY,
            None,
            KEYRING.poll_key_sealer.seal(b"p" * 32),
            "en",
        )
    return poll.id


async def test_after_forget_no_row_anywhere_holds_a_pseudonym_of_the_person(
    storage: SqliteStorage, path: Path
) -> None:
    poll_id = await open_wave_and_poll(storage)
    for user_id in (PERSON, BYSTANDER):
        await leave_traces(storage, user_id, poll_id)
    mine = await pseudonyms_of(storage, path, PERSON)
    theirs = await pseudonyms_of(storage, path, BYSTANDER)
    with contextlib.closing(sqlite3.connect(path)) as db:
        columns = pseudonym_columns(db)
        # Every pseudonym column is exercised: a new one fails here until `leave_traces`
        # writes it and `forget_person` deletes it.
        assert columns_holding(db, mine) == columns

    forgotten = await forget_person(
        storage, KEYRING, PERSON, [KEYRING.fsm_pseudonym(astuple(private_chat(PERSON)))]
    )

    assert (forgotten.responses, forgotten.subscription, forgotten.on_disk) == (1, True, True)
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert columns_holding(db, mine) == set()
        assert columns_holding(db, theirs) == columns  # only the person was forgotten


async def test_the_schema_scan_would_notice_a_new_pseudonym_column(
    storage: SqliteStorage, path: Path
) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db:
        before = pseudonym_columns(db)
        db.execute("CREATE TABLE reminders (subscriber BLOB, remind_key TEXT, due TEXT)")
        assert pseudonym_columns(db) - before == {
            ("reminders", "subscriber"),
            ("reminders", "remind_key"),
        }
    assert before == {
        ("preferences", "person"),
        ("fsm_states", "key"),
        ("kb_votes", "voter"),
        ("survey_responses", "respondent"),
        ("wave_subscribers", "subscriber"),
        ("poll_votes", "voter"),
        ("poll_audit", "admin"),
    }
