"""The SQLite backend itself: migrations apply in order and upgrade every previous version;
its pragmas, its read-only connection, and a failed start. Behaviour every backend shares is
in tests/storage_conformance/."""

from __future__ import annotations

import contextlib
import gc
import sqlite3
import warnings
from pathlib import Path

import aiosqlite
import pytest

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


async def test_pragmas_are_set_on_both_connections(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path}/p.sqlite3")
    try:
        for conn in (storage._writer, storage._reader):
            async with conn.execute("PRAGMA journal_mode") as cursor:
                assert (await cursor.fetchone())[0] == "wal"
            async with conn.execute("PRAGMA foreign_keys") as cursor:
                assert (await cursor.fetchone())[0] == 1
            async with conn.execute("PRAGMA busy_timeout") as cursor:
                assert (await cursor.fetchone())[0] > 0
    finally:
        await storage.close()


async def test_a_write_outside_a_transaction_fails_loudly(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path}/p.sqlite3")
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await storage._reader.execute("INSERT INTO meta (name, value) VALUES ('a', 'b')")
        assert await storage.meta.get("a") is None
    finally:
        await storage.close()


async def test_a_failed_start_closes_what_it_opened(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA user_version = 999")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(RuntimeError, match="newer"):
            await open_storage(f"sqlite:///{path}")
        gc.collect()  # a connection left open warns when it is collected
    assert [w.message for w in caught if issubclass(w.category, ResourceWarning)] == []


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
