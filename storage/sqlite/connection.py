"""Opening the SQLite file with the pragmas Vyraj relies on."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from storage.opening import sqlite_path_from_url
from storage.sqlite.inspection import VYRAJ_APPLICATION_ID

__all__ = ["BUSY_TIMEOUT_MS", "connect", "connect_read_only", "sqlite_path_from_url"]

BUSY_TIMEOUT_MS = 5000


async def connect(path: Path) -> aiosqlite.Connection:
    """Open a connection with the pragmas Vyraj relies on; create the folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(path)
    try:
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA synchronous = NORMAL")
        # Deleted rows are overwritten, so a copied file keeps no remnants of forgotten data.
        await conn.execute("PRAGMA secure_delete = ON")
        # Marks the file as Vyraj's, so a later start can tell it from any other SQLite file.
        await conn.execute(f"PRAGMA application_id = {VYRAJ_APPLICATION_ID}")
    except BaseException:
        # aiosqlite's worker thread is not a daemon: an unclosed connection keeps the process.
        await conn.close()
        raise
    return conn


def connect_read_only(path: Path) -> aiosqlite.Connection:
    """Open (await it) an existing database read-only: nothing is created, migrated or written."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    if not path.with_name(path.name + "-wal").exists():
        # No bot has it open: read the file as it is, without creating a -shm file beside it.
        uri += "&immutable=1"
    return aiosqlite.connect(uri, uri=True)
