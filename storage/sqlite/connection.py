"""Opening the SQLite file with the pragmas Vyraj relies on."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

_BUSY_TIMEOUT_MS = 5000


def sqlite_path_from_url(url: str) -> Path:
    """`sqlite:///relative/path` or `sqlite:////absolute/path` to a filesystem path."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise ValueError("must look like sqlite:///path/to/file.sqlite3")
    return Path(url[len(prefix) :])


async def connect(path: Path) -> aiosqlite.Connection:
    """Open a connection with the pragmas Vyraj relies on; create the folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(path)
    await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute("PRAGMA foreign_keys = ON")
    await conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA synchronous = NORMAL")
    # Deleted rows are overwritten, so a copied file keeps no remnants of forgotten data.
    await conn.execute("PRAGMA secure_delete = ON")
    return conn
