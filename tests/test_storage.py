"""Migrations apply in order and upgrade every previous version; repositories round-trip."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.fsm_storage import PseudonymousFsmStorage
from services.privacy import Keyring
from storage import open_storage
from storage.migrations import available_migrations, migrate, schema_version
from storage.sqlite import connect


async def schema_of(conn: aiosqlite.Connection) -> list[tuple[str, str]]:
    async with conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    ) as cursor:
        return [(str(name), str(sql)) for name, sql in await cursor.fetchall()]


async def test_migrations_apply_in_order_to_an_empty_database(tmp_path: Path) -> None:
    conn = await connect(tmp_path / "fresh.sqlite3")
    try:
        versions = []
        for migration in available_migrations():
            versions.append(await migrate(conn, target=migration.version))
        assert versions == list(range(1, len(available_migrations()) + 1))
        assert await schema_version(conn) == available_migrations()[-1].version
    finally:
        await conn.close()


@pytest.mark.parametrize("start", range(len(available_migrations())))
async def test_every_previous_version_upgrades_to_the_latest_schema(
    tmp_path: Path, start: int
) -> None:
    fresh = await connect(tmp_path / "fresh.sqlite3")
    old = await connect(tmp_path / f"v{start}.sqlite3")
    try:
        await migrate(fresh)
        await migrate(old, target=start)
        assert await schema_version(old) == start
        await migrate(old)
        assert await schema_of(old) == await schema_of(fresh)
    finally:
        await fresh.close()
        await old.close()


async def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    conn = await connect(tmp_path / "future.sqlite3")
    try:
        await conn.execute("PRAGMA user_version = 999")
        with pytest.raises(RuntimeError, match="newer"):
            await migrate(conn)
    finally:
        await conn.close()


async def test_pragmas_are_set(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path}/p.sqlite3")
    try:
        conn = storage._conn
        async with conn.execute("PRAGMA journal_mode") as cursor:
            assert (await cursor.fetchone())[0] == "wal"
        async with conn.execute("PRAGMA foreign_keys") as cursor:
            assert (await cursor.fetchone())[0] == 1
        async with conn.execute("PRAGMA busy_timeout") as cursor:
            assert (await cursor.fetchone())[0] > 0
    finally:
        await storage.close()


async def test_preferences_round_trip_and_forget(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path}/p.sqlite3")
    try:
        await storage.preferences.set_locale("abc", "ru")
        await storage.preferences.set_locale("abc", "en")
        assert await storage.preferences.get_locale("abc") == "en"
        await storage.preferences.forget("abc")
        assert await storage.preferences.get_locale("abc") is None
    finally:
        await storage.close()


async def test_fsm_state_survives_reopening_and_is_sealed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fsm.sqlite3"
    keyring = Keyring(b"k" * 32)
    key = StorageKey(bot_id=1, chat_id=5_000_000_001, user_id=5_000_000_001)
    storage = await open_storage(url)
    fsm = PseudonymousFsmStorage(storage.fsm, keyring)
    await fsm.set_state(key, "Survey:status")
    await fsm.update_data(key, {"step": 3})
    await storage.close()

    storage = await open_storage(url)
    try:
        fsm = PseudonymousFsmStorage(storage.fsm, keyring)
        assert await fsm.get_state(key) == "Survey:status"
        assert await fsm.get_data(key) == {"step": 3}
        other_key_fsm = PseudonymousFsmStorage(storage.fsm, Keyring(b"z" * 32))
        assert await other_key_fsm.get_state(key) is None
        await fsm.set_state(key, None)
        await fsm.set_data(key, {})
        async with storage._conn.execute("SELECT count(*) FROM fsm_states") as cursor:
            assert (await cursor.fetchone())[0] == 0
    finally:
        await storage.close()


async def test_questions_kept_as_typed_are_deleted_by_the_upgrade(tmp_path: Path) -> None:
    conn = await connect(tmp_path / "v5.sqlite3")
    try:
        await migrate(conn, target=5)
        await conn.execute(
            "INSERT INTO kb_unanswered (question_key, example) VALUES (?, ?)",
            ("ivan petrov", "Ivan Petrov, passport MP1234567"),
        )
        await conn.commit()
        await migrate(conn)
        async with conn.execute("SELECT count(*) FROM kb_unanswered") as cursor:
            assert (await cursor.fetchone()) == (0,)
    finally:
        await conn.close()
    assert b"MP1234567" not in (tmp_path / "v5.sqlite3").read_bytes()
