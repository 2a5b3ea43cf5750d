"""PostgreSQL migrations: `migrations/postgres/NNNN_name.sql`, numbered as the SQLite ones.
All pending ones run in one transaction under an advisory lock, so that two bots starting
together do not both migrate; the version is kept in `schema_version`."""

from __future__ import annotations

from storage.migrations import SchemaTooNewError, available_migrations
from storage.postgres.connection import Connection

# pg_advisory_xact_lock's key for migrating: any constant no other lock of ours uses.
MIGRATION_LOCK = 0x56797261_6A5F4D49  # "Vyraj_MI"


async def schema_version(conn: Connection) -> int:
    """The version applied, 0 for an empty database."""
    exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    if not exists:
        return 0
    return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_version"))


class SchemaOutdatedError(Exception):
    """The database needs migrations that only `vyraj run` applies."""


async def require_latest(conn: Connection) -> None:
    """Refuse, without writing anything, a database not at this Vyraj's schema version."""
    migrations = available_migrations("postgres")
    latest = migrations[-1].version if migrations else 0
    current = await schema_version(conn)
    if current > latest:
        raise SchemaTooNewError(
            f"the database is at schema version {current}, newer than this Vyraj ({latest})"
        )
    if current < latest:
        raise SchemaOutdatedError(
            f"the database is at schema version {current}, this Vyraj needs {latest}; "
            "`vyraj run` upgrades it (this command only reads)"
        )


async def migrate(conn: Connection, target: int | None = None) -> int:
    """Apply pending migrations up to `target` (default: the latest); return the new version."""
    migrations = available_migrations("postgres")
    latest = migrations[-1].version if migrations else 0
    target = latest if target is None else target
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY)"
        )
        current = await schema_version(conn)
        if current > latest:
            raise SchemaTooNewError(
                f"the database is at schema version {current}, newer than this Vyraj ({latest})"
            )
        for migration in migrations:
            if current < migration.version <= target:
                await conn.execute(migration.sql)
                await conn.execute("INSERT INTO schema_version VALUES ($1)", migration.version)
                current = migration.version
    return current
