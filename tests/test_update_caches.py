"""What the hot path keeps instead of reading it again: a dialogue within one update, each
person's locale until a transaction changes it, and the open wave until one opens or closes.
None may serve a stale or another's value."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import astuple
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.fsm_storage import PseudonymousFsmStorage, records_kept_for_update
from bot.log_redaction import setup_logging
from services.privacy import Keyring
from storage import SqliteStorage, open_storage
from storage.sqlite.preferences import LocaleCache
from storage.sqlite.survey import CurrentWaveCache

KEYRING = Keyring(b"c" * 32)
ALICE = StorageKey(bot_id=1, chat_id=2**33 + 5, user_id=2**33 + 5)
BOB = StorageKey(bot_id=1, chat_id=2**33 + 7, user_id=2**33 + 7)


class CountingReads:
    """The FSM reader, counting how often the database is asked."""

    def __init__(self, storage: SqliteStorage) -> None:
        self._fsm = storage.fsm
        self.reads = 0

    async def load(self, key: str) -> bytes | None:
        self.reads += 1
        return await self._fsm.load(key)


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    opened = await open_storage(f"sqlite:///{tmp_path / 'cache.sqlite3'}")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def counting(storage: SqliteStorage, monkeypatch: pytest.MonkeyPatch) -> CountingReads:
    reads = CountingReads(storage)
    monkeypatch.setattr(storage, "fsm", reads)
    return reads


async def test_a_dialogue_is_read_once_per_update_and_writes_stay_current(
    storage: SqliteStorage, counting: CountingReads
) -> None:
    fsm = PseudonymousFsmStorage(storage, KEYRING)
    await fsm.set_state(ALICE, "survey:answering")
    await fsm.set_data(ALICE, {"wave": 1, "step": "status"})
    counting.reads = 0
    with records_kept_for_update():
        # What a survey press does: the middleware's state, the handler's state and data,
        # then its store (which reads the state to keep it).
        assert await fsm.get_state(ALICE) == "survey:answering"
        assert await fsm.get_state(ALICE) == "survey:answering"
        data = await fsm.get_data(ALICE)
        await fsm.set_data(ALICE, {**data, "step": "country"})
        assert await fsm.get_data(ALICE) == {"wave": 1, "step": "country"}
    assert counting.reads == 1
    # Outside an update every call reads the database, which holds the write.
    assert await fsm.get_data(ALICE) == {"wave": 1, "step": "country"}
    assert counting.reads == 2


async def test_a_kept_dialogue_is_never_anothers_and_ends_with_its_update(
    storage: SqliteStorage, counting: CountingReads
) -> None:
    fsm = PseudonymousFsmStorage(storage, KEYRING)
    await fsm.set_data(ALICE, {"picked": ["a"]})
    with records_kept_for_update():
        assert await fsm.get_data(BOB) == {}
        mine = await fsm.get_data(ALICE)
        mine["picked"].append("changed but not stored")
        assert await fsm.get_data(ALICE) == {"picked": ["a"]}
    # Written by someone else between two updates: the next update sees it.
    await PseudonymousFsmStorage(storage, KEYRING).set_data(ALICE, {"picked": ["b"]})
    with records_kept_for_update():
        assert await fsm.get_data(ALICE) == {"picked": ["b"]}


async def test_data_changed_after_it_was_stored_does_not_change_the_kept_dialogue(
    storage: SqliteStorage, counting: CountingReads
) -> None:
    fsm = PseudonymousFsmStorage(storage, KEYRING)
    with records_kept_for_update():
        data: dict[str, object] = {"picked": ["a"]}
        await fsm.set_data(ALICE, data)
        data["picked"] = ["changed after it was stored"]
        await fsm.set_state(ALICE, "survey:answering")  # stores the kept data again
        assert await fsm.get_data(ALICE) == {"picked": ["a"]}
    assert await fsm.get_data(ALICE) == {"picked": ["a"]}
    assert counting.reads == 2  # once in the update, once after it


async def test_a_task_started_in_an_update_reads_afresh_once_the_update_ends(
    storage: SqliteStorage,
) -> None:
    fsm = PseudonymousFsmStorage(storage, KEYRING)
    await fsm.set_data(ALICE, {"n": 1})
    update_over = asyncio.get_running_loop().create_future()

    async def read_later() -> dict[str, object]:
        await update_over
        return await fsm.get_data(ALICE)

    with records_kept_for_update():
        assert await fsm.get_data(ALICE) == {"n": 1}
        later = asyncio.create_task(read_later())  # inherits the update's context
    await PseudonymousFsmStorage(storage, KEYRING).set_data(ALICE, {"n": 2})
    update_over.set_result(None)
    assert await later == {"n": 2}


async def test_a_cleared_dialogue_reads_as_empty_within_the_update(
    storage: SqliteStorage, counting: CountingReads
) -> None:
    fsm = PseudonymousFsmStorage(storage, KEYRING)
    await fsm.set_state(ALICE, "survey:answering")
    # Under the pseudonym /forget deletes (made from `astuple` of the key).
    assert await storage.fsm.load(KEYRING.fsm_pseudonym(astuple(ALICE))) is not None
    with records_kept_for_update():
        assert await fsm.get_state(ALICE) == "survey:answering"
        await fsm.set_state(ALICE, None)
        await fsm.set_data(ALICE, {})
        assert await fsm.get_state(ALICE) is None
    assert await storage.fsm.load(KEYRING.fsm_pseudonym(astuple(ALICE))) is None
    assert await fsm.get_state(ALICE) is None


async def test_a_locale_is_read_once_and_follows_every_change(
    storage: SqliteStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = 0
    execute = storage.preferences._conn.execute_fetchall

    def counting_execute(sql: str, parameters: tuple[object, ...]) -> object:
        nonlocal reads
        reads += 1
        return execute(sql, parameters)

    monkeypatch.setattr(storage.preferences._conn, "execute_fetchall", counting_execute)
    person = KEYRING.user_pseudonym(2**33 + 5)
    assert await storage.preferences.get_locale(person) is None
    assert await storage.preferences.get_locale(person) is None
    assert reads == 1
    async with storage.transaction() as tx:
        await tx.preferences.set_locale(person, "be")
    assert await storage.preferences.get_locale(person) == "be"
    assert await storage.preferences.get_locale(person) == "be"
    assert reads == 2
    async with storage.transaction() as tx:
        await tx.preferences.forget(person)
    assert await storage.preferences.get_locale(person) is None


async def test_a_locale_change_rolled_back_is_not_kept(storage: SqliteStorage) -> None:
    person = KEYRING.user_pseudonym(2**33 + 7)
    assert await storage.preferences.get_locale(person) is None

    async def change_then_fail() -> None:
        async with storage.transaction() as tx:
            await tx.preferences.set_locale(person, "ru")
            raise RuntimeError("failed half-way")

    with pytest.raises(RuntimeError):
        await change_then_fail()
    assert await storage.preferences.get_locale(person) is None


def test_a_read_that_overlapped_a_change_is_not_kept() -> None:
    cache = LocaleCache(limit=2)
    started_in = cache.generation
    cache.drop({"alice"})  # a transaction changed alice's row while the read was under way
    cache.keep("alice", "en", started_in)
    assert cache.get("alice") == (False, None)
    cache.keep("alice", "be", cache.generation)
    assert cache.get("alice") == (True, "be")


async def test_the_open_wave_is_read_once_and_follows_its_opening_and_closing(
    storage: SqliteStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = 0
    execute = storage.survey._conn.execute_fetchall

    def counting_execute(sql: str, parameters: tuple[object, ...] = ()) -> object:
        nonlocal reads
        reads += 1
        return execute(sql, parameters)

    monkeypatch.setattr(storage.survey._conn, "execute_fetchall", counting_execute)
    assert await storage.survey.current_wave() is None
    assert await storage.survey.current_wave() is None
    assert reads == 1
    async with storage.transaction() as tx:
        opened = await tx.survey.open_wave("Spring", b"sealed", dt.date(2026, 3, 1))
    assert await storage.survey.current_wave() == opened
    assert await storage.survey.current_wave() == opened
    assert reads == 2
    async with storage.transaction() as tx:
        await tx.survey.close_wave(opened.id, dt.date(2026, 4, 1))
    assert await storage.survey.current_wave() is None


def test_a_wave_read_that_overlapped_a_change_is_not_kept() -> None:
    cache = CurrentWaveCache()
    started_in = cache.generation
    cache.drop()  # a transaction opened or closed a wave while the read was under way
    cache.keep(None, started_in)
    assert cache.get() == (False, None)
    cache.keep(None, cache.generation)
    assert cache.get() == (True, None)


def test_the_locale_cache_is_bounded() -> None:
    cache = LocaleCache(limit=2)
    for person, locale in (("a", "be"), ("b", "ru"), ("c", "en")):
        cache.keep(person, locale, cache.generation)
    assert cache.get("a") == (False, None)
    assert (cache.get("b"), cache.get("c")) == ((True, "ru"), (True, "en"))


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers = root.handlers[:]
    names = ("", "aiogram.event", "aiogram.middlewares", "apscheduler")
    levels = {name: logging.getLogger(name).level for name in names}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def test_per_update_lines_are_not_logged_at_info(restored_logging: None) -> None:
    setup_logging()
    assert not logging.getLogger("aiogram.event").isEnabledFor(logging.INFO)
    assert not logging.getLogger("aiogram.middlewares").isEnabledFor(logging.INFO)
    assert logging.getLogger("aiogram.event").isEnabledFor(logging.ERROR)
    assert logging.getLogger("bot.app").isEnabledFor(logging.INFO)


async def test_people_in_no_dialogue_cost_no_read_until_one_starts(
    storage: SqliteStorage, counting: CountingReads
) -> None:
    fsm = PseudonymousFsmStorage(storage, KEYRING, without_dialogue_limit=1)
    assert await fsm.get_state(ALICE) is None
    assert await fsm.get_state(ALICE) is None
    assert counting.reads == 1
    await fsm.set_state(ALICE, "survey:answering")  # reads the data it keeps: known empty
    assert await fsm.get_state(ALICE) == "survey:answering"
    assert counting.reads == 2
    await fsm.set_state(ALICE, None)
    assert await fsm.get_state(ALICE) is None
    assert counting.reads == 3  # the one left known without a dialogue is ALICE, not BOB
    assert await fsm.get_state(BOB) is None
    assert await fsm.get_state(ALICE) is None  # pushed out by BOB (limit 1): read again
    assert counting.reads == 5


async def test_a_dialogue_saved_while_it_was_being_read_is_not_taken_for_none(
    storage: SqliteStorage, counting: CountingReads, monkeypatch: pytest.MonkeyPatch
) -> None:
    fsm = PseudonymousFsmStorage(storage, KEYRING)
    load = counting.load
    saved = False

    async def load_then_someone_saves(key: str) -> bytes | None:
        nonlocal saved
        blob = await load(key)  # nothing yet
        if not saved:
            saved = True
            await fsm.set_data(ALICE, {"n": 1})
        return blob

    monkeypatch.setattr(counting, "load", load_then_someone_saves)
    assert await fsm.get_data(ALICE) == {}
    monkeypatch.setattr(counting, "load", load)
    assert await fsm.get_data(ALICE) == {"n": 1}
