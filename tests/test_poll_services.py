"""The poll operations in services/polls/ and the subscriber record, called directly."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.polls.chats import remember_chat
from services.polls.closing import close_poll
from services.polls.parsing import PollDraft
from services.polls.publishing import record_poll, record_posted
from services.polls.voting import record_native_counts
from services.privacy import Keyring
from services.survey.subscriptions import open_subscriber
from storage import Storage, open_storage

KEYRING = Keyring(b"k" * 32)
NOW = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
GROUP = -1001234567890


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    opened = await open_storage(f"sqlite:///{tmp_path / 'vyraj.sqlite3'}")
    try:
        yield opened
    finally:
        await opened.close()


async def tallies(storage: Storage, poll_id: int) -> tuple[int, ...]:
    poll = await storage.polls.get_poll(poll_id)
    assert poll is not None
    return poll.tallies


async def test_telegram_counts_are_kept_only_while_open_and_for_every_option(
    storage: Storage,
) -> None:
    await remember_chat(storage, KEYRING, GROUP, "Belarusians in Kraków", "supergroup")
    draft = PollDraft("Lunch?", ("Yes", "No"))
    poll = await record_poll(storage, KEYRING, GROUP, draft, "en", NOW)
    posted = await record_posted(storage, poll, 42, "telegram-poll", "bot", NOW)
    assert (posted.message_id, posted.tallies) == (42, (0, 0))
    await record_native_counts(storage, "telegram-poll", (1, 2, 3))  # not this poll's shape
    await record_native_counts(storage, "another-poll", (7, 7))
    await record_native_counts(storage, "telegram-poll", (4, 5))
    assert await tallies(storage, poll.id) == (4, 5)
    assert await close_poll(storage, poll.id, NOW, "bot") is not None
    await record_native_counts(storage, "telegram-poll", (9, 9))  # a late update
    assert await tallies(storage, poll.id) == (4, 5)


def test_a_subscriber_record_under_another_key_or_damaged_reads_as_none() -> None:
    sealed = KEYRING.subscriber_sealer.seal_json({"chat": 5, "locale": "be"})
    record = open_subscriber(KEYRING, sealed)
    assert record is not None
    assert (record.chat_id, record.locale) == (5, "be")
    assert open_subscriber(Keyring(b"o" * 32), sealed) is None
    assert open_subscriber(KEYRING, KEYRING.subscriber_sealer.seal_json({"chat": 5})) is None
    assert open_subscriber(KEYRING, b"garbage") is None
