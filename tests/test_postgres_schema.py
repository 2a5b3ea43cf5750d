"""The PostgreSQL migrations build the same schema as the SQLite ones (tables, columns, keys,
indexes, compared after normalising the types), under a lock two starting bots share."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiosqlite
import asyncpg
import pytest

from storage.migrations import available_migrations, migrate
from storage.postgres.migrations import migrate as migrate_postgres
from storage.postgres.migrations import schema_version
from tests.servers.postgres import PostgresCluster

# Kept by the PostgreSQL runner itself (SQLite keeps the version in PRAGMA user_version); the
# sealed pending responses SQLite has no need of (storage/postgres/pending.py); and SQLite's
# implicit row number, which PostgreSQL spells out.
PG_ONLY_TABLES = {"schema_version", "survey_pending"}
PG_ONLY_COLUMNS = {("kb_notes", "rowid")}

TYPES = {
    "INTEGER": "integer",
    "TEXT": "text",
    "BLOB": "blob",
    "bigint": "integer",
    "integer": "integer",
    "text": "text",
    "bytea": "blob",
}

Column = tuple[str, str, str, bool]  # table, column, type, not null
Schema = tuple[set[Column], set[tuple[str, str, tuple[str, ...]]], set[tuple[str, str, bool]]]


async def sqlite_schema(path: Path) -> Schema:
    columns: set[Column] = set()
    keys: set[tuple[str, str, tuple[str, ...]]] = set()  # table, pk|unique, columns
    indexes: set[tuple[str, str, bool]] = set()  # table, index, unique
    async with aiosqlite.connect(path) as conn:
        await migrate(conn)
        tables = [
            str(row[0])
            for row in await conn.execute_fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for table in tables:
            info = list(await conn.execute_fetchall(f"PRAGMA table_info({table})"))
            for _, name, kind, notnull, _, pk in info:
                columns.add((table, str(name), TYPES[str(kind)], bool(notnull or pk)))
            primary = tuple(str(row[1]) for row in sorted(info, key=lambda r: r[5]) if row[5])
            keys.add((table, "pk", primary))
            for _, index, unique, origin, _ in await conn.execute_fetchall(
                f"PRAGMA index_list({table})"
            ):
                if origin == "u":
                    cols = await conn.execute_fetchall(f"PRAGMA index_info({index})")
                    keys.add((table, "unique", tuple(str(c[2]) for c in cols)))
                elif origin == "c":
                    indexes.add((table, str(index), bool(unique)))
    return columns, keys, indexes


async def postgres_schema(url: str) -> Schema:
    columns: set[Column] = set()
    keys: set[tuple[str, str, tuple[str, ...]]] = set()
    indexes: set[tuple[str, str, bool]] = set()
    conn = await asyncpg.connect(url)
    try:
        await migrate_postgres(conn)
        for row in await conn.fetch(
            "SELECT table_name, column_name, data_type, is_nullable FROM "
            "information_schema.columns WHERE table_schema = 'public'"
        ):
            table, name = str(row[0]), str(row[1])
            if table not in PG_ONLY_TABLES and (table, name) not in PG_ONLY_COLUMNS:
                columns.add((table, name, TYPES[str(row[2])], row[3] == "NO"))
        for row in await conn.fetch(
            "SELECT c.conrelid::regclass::text, c.contype::text, "
            "  array_agg(a.attname::text ORDER BY k.ordinality) "
            "FROM pg_constraint c "
            "CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ordinality) "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum "
            "WHERE c.contype IN ('p', 'u') AND c.connamespace = 'public'::regnamespace "
            "GROUP BY c.oid, c.conrelid, c.contype"
        ):
            table, cols = str(row[0]), tuple(str(c) for c in row[2])
            if table in PG_ONLY_TABLES:
                continue
            if table == "kb_notes" and cols == ("rowid",):
                keys.add((table, "pk", ()))  # SQLite's rowid table has no declared key
                continue
            keys.add((table, "pk" if row[1] == "p" else "unique", cols))
        for row in await conn.fetch(
            "SELECT t.relname, i.relname, x.indisunique FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "WHERE t.relnamespace = 'public'::regnamespace "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
        ):
            indexes.add((str(row[0]), str(row[1]), bool(row[2])))
    finally:
        await conn.close()
    return columns, keys, indexes


def test_both_dialects_have_the_same_migration_numbers() -> None:
    sqlite = [(m.version, m.name) for m in available_migrations("sqlite")]
    postgres = [(m.version, m.name) for m in available_migrations("postgres")]
    assert postgres == sqlite


async def test_the_postgres_schema_matches_the_sqlite_one(
    postgres_cluster: PostgresCluster, tmp_path: Path
) -> None:
    sqlite_columns, sqlite_keys, sqlite_indexes = await sqlite_schema(tmp_path / "v.sqlite3")
    url = await postgres_cluster.fresh_database(template="template0")
    pg_columns, pg_keys, pg_indexes = await postgres_schema(url)
    assert {c[0] for c in pg_columns} == {c[0] for c in sqlite_columns}
    assert pg_columns == sqlite_columns
    assert pg_keys == sqlite_keys
    assert pg_indexes == sqlite_indexes


async def test_two_bots_starting_together_migrate_once(postgres_cluster: PostgresCluster) -> None:
    url = await postgres_cluster.fresh_database(template="template0")
    first, second = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        versions = await asyncio.gather(migrate_postgres(first), migrate_postgres(second))
        latest = len(available_migrations("postgres"))
        assert versions == [latest, latest]
        applied = await first.fetch("SELECT version FROM schema_version ORDER BY version")
        assert [row[0] for row in applied] == list(range(1, latest + 1))
    finally:
        await first.close()
        await second.close()


async def test_a_newer_schema_is_refused(postgres_cluster: PostgresCluster) -> None:
    conn = await asyncpg.connect(await postgres_cluster.fresh_database())
    try:
        latest = await schema_version(conn)
        await conn.execute("INSERT INTO schema_version VALUES ($1)", latest + 1)
        with pytest.raises(RuntimeError, match="newer than this Vyraj"):
            await migrate_postgres(conn)
    finally:
        await conn.close()
