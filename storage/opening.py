"""DATABASE_URL to a backend: the one place that dispatches on its scheme."""

from __future__ import annotations

from pathlib import Path

from storage.interface import Storage

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
SQLITE_SCHEME = "sqlite:///"


def backend_of(url: str) -> str:
    """`sqlite` or `postgres`; ValueError for any other URL (said without the URL: it may
    hold a password)."""
    if url.startswith(POSTGRES_SCHEMES):
        return "postgres"
    if url.startswith(SQLITE_SCHEME) and len(url) > len(SQLITE_SCHEME):
        return "sqlite"
    raise ValueError(
        "must look like sqlite:///path/to/file.sqlite3 or postgresql://user@host/database"
    )


def sqlite_path_from_url(url: str) -> Path:
    """`sqlite:///relative/path` or `sqlite:////absolute/path` to a filesystem path."""
    if not url.startswith(SQLITE_SCHEME) or len(url) == len(SQLITE_SCHEME):
        raise ValueError("must look like sqlite:///path/to/file.sqlite3")
    return Path(url[len(SQLITE_SCHEME) :])


async def open_storage(url: str, *, pending_key: bytes | None = None) -> Storage:
    """Open the database named by DATABASE_URL and bring its schema up to date. PostgreSQL
    needs `pending_key` (derived from SECRET_KEY; see storage/postgres/pending.py)."""
    if backend_of(url) == "postgres":
        from storage.postgres import open_postgres  # asyncpg only when it is used

        if pending_key is None:
            raise ValueError("a PostgreSQL storage needs the pending-response key")
        return await open_postgres(url, pending_key)
    from storage.sqlite import open_sqlite

    return await open_sqlite(url)
