"""Versioned schema migrations: `migrations/NNNN_name.sql` (SQLite) and
`migrations/postgres/NNNN_name.sql` (PostgreSQL, the same numbers), applied in order at start."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import aiosqlite

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


Dialect = Literal["sqlite", "postgres"]


class SchemaTooNewError(RuntimeError):
    """The database was migrated by a newer Vyraj; this one must not touch it."""


def available_migrations(dialect: Dialect = "sqlite") -> list[Migration]:
    """All migrations of the dialect shipped with the package, in version order (1, 2, 3...)."""
    folder = resources.files("storage").joinpath("migrations")
    if dialect == "postgres":
        folder = folder.joinpath("postgres")
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migration versions must be 1..N without gaps, found {versions}")
    return found


async def schema_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(conn: aiosqlite.Connection, target: int | None = None) -> int:
    """Apply pending migrations up to `target` (default: the latest); return the new version."""
    migrations = available_migrations()
    latest = migrations[-1].version if migrations else 0
    target = latest if target is None else target
    current = await schema_version(conn)
    if current > latest:
        raise SchemaTooNewError(
            f"the database is at schema version {current}, newer than this Vyraj ({latest})"
        )
    for migration in migrations:
        if current < migration.version <= target:
            await conn.executescript(
                f"BEGIN IMMEDIATE;\n{migration.sql}\nPRAGMA user_version = {migration.version};\n"
                "COMMIT;"
            )
            current = migration.version
    return current
