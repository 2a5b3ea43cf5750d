"""`vyraj migrate-db`: copy an SQLite database into an empty PostgreSQL one, every table in
one transaction, so a failure part-way leaves the target as empty as it was. The open wave's
and census polls' keys are wrapped in the key vault on the way: PostgreSQL never holds them
as SQLite did."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import aiosqlite
import asyncpg

from storage.migrations import available_migrations
from storage.migrations import schema_version as sqlite_schema_version
from storage.postgres.connection import Connection
from storage.postgres.key_vault import KeyVault
from storage.postgres.migrations import migrate
from storage.sqlite.connection import connect_read_only

# Parents before children (the foreign keys are checked row by row).
TABLES = (
    "meta",
    "preferences",
    "fsm_states",
    "kb_views",
    "kb_votes",
    "kb_unanswered",
    "kb_notes",
    "survey_waves",
    "survey_answer_sets",
    "survey_responses",
    "survey_snapshots",
    "wave_subscribers",
    "chats",
    "polls",
    "poll_votes",
    "poll_audit",
    "poll_copies",
    "poll_outbox",
    "digests",
)
# Left behind on purpose: claims on shared work belong to the run that held them, and a copy
# is made with the bot stopped (SQLite drops them at every start too).
_NOT_COPIED = {"claims"}
# SQLite's implicit row numbers that PostgreSQL keeps as a column (the notes' order).
_ROWID_TABLES = {"kb_notes"}
# The keys stored wrapped under a KEK of the vault (key_vault.py).
_WRAPPED = {"survey_waves": "key_sealed", "polls": "voter_key_sealed"}
# Identity columns whose sequences must continue after the copied ids.
_IDENTITIES = {"survey_waves": "id", "polls": "id", "poll_audit": "id", "kb_notes": "rowid"}


class TransferRefusedError(Exception):
    """The copy cannot be made; the message is one line."""


@dataclass(frozen=True)
class Transferred:
    tables: int
    rows: int


async def copy_sqlite_to_postgres(source: Path, target_url: str, key_vault: Path) -> Transferred:
    """Copy every table of the existing SQLite file at `source` into the empty database
    `target_url`, wrapping the keys under new KEKs in `key_vault` (KEY_VAULT_DIR)."""
    vault = await asyncio.to_thread(KeyVault.create, key_vault)
    reader = await connect_read_only(source)
    try:
        latest = len(available_migrations("sqlite"))
        if await sqlite_schema_version(reader) != latest:
            raise TransferRefusedError(
                f"{source} is not at this Vyraj's schema version ({latest}): start `vyraj run` "
                "on it once to upgrade it, then copy it"
            )
        tables = {
            str(row[0])
            for row in await reader.execute_fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        if unknown := tables - set(TABLES) - _NOT_COPIED:
            raise TransferRefusedError(f"{source} has tables this copy does not know: {unknown}")
        target = await asyncpg.connect(target_url)
        try:
            await migrate(target)
            return await _copy(reader, target, vault)
        finally:
            await target.close()
    finally:
        await reader.close()


async def _copy(reader: aiosqlite.Connection, target: Connection, vault: KeyVault) -> Transferred:
    wrapped: list[bytes] = []
    try:
        return await _copy_tables(reader, target, vault, wrapped)
    except BaseException:
        for stored in wrapped:  # nothing was committed: their KEKs guard nothing
            await vault.shred(stored)
        raise


async def _copy_tables(
    reader: aiosqlite.Connection, target: Connection, vault: KeyVault, wrapped: list[bytes]
) -> Transferred:
    rows_copied = 0
    async with target.transaction():
        for table in TABLES:
            # Locks out a bot starting meanwhile; and a target in use is refused.
            await target.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            if await target.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"):
                raise TransferRefusedError(
                    f"the target database is not empty ({table} has rows): copy only into a "
                    "new, empty database"
                )
        for table in TABLES:
            info = await reader.execute_fetchall(f"PRAGMA table_info({table})")
            columns = [str(row[1]) for row in info]
            if table in _ROWID_TABLES:
                columns = ["rowid", *columns]
            records = [
                tuple(row)
                for row in await reader.execute_fetchall(
                    f"SELECT {', '.join(columns)} FROM {table}"
                )
            ]
            if table in _WRAPPED:
                records = await _wrap_keys(records, columns.index(_WRAPPED[table]), vault, wrapped)
            if records:
                await target.copy_records_to_table(table, records=records, columns=columns)
            rows_copied += len(records)
            if table in _IDENTITIES:
                column = _IDENTITIES[table]
                await target.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                    f"coalesce(max({column}), 0) + 1, false) FROM {table}"
                )
    return Transferred(len(TABLES), rows_copied)


async def _wrap_keys(
    records: list[tuple[object, ...]], column: int, vault: KeyVault, wrapped: list[bytes]
) -> list[tuple[object, ...]]:
    """The records with the key in `column` wrapped (a closed one's is NULL already)."""
    result = []
    for record in records:
        key = record[column]
        if isinstance(key, bytes):
            stored = await vault.wrap(key)
            wrapped.append(stored)
            record = (*record[:column], stored, *record[column + 1 :])
        result.append(record)
    return result
