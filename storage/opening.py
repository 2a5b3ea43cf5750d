"""DATABASE_URL to a backend: the one place that dispatches on its scheme."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

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


def describe_server(url: str) -> str:
    """user@host/database of a PostgreSQL URL, without the password."""
    parts = urlsplit(url)
    host = parts.hostname or parse_qs(parts.query).get("host", ["localhost"])[0]
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}@" if parts.username else ""
    return f"{user}{host}{port}{parts.path or '/'}"


def sqlite_path_from_url(url: str) -> Path:
    """`sqlite:///relative/path` or `sqlite:////absolute/path` to a filesystem path."""
    if not url.startswith(SQLITE_SCHEME) or len(url) == len(SQLITE_SCHEME):
        raise ValueError("must look like sqlite:///path/to/file.sqlite3")
    return Path(url[len(SQLITE_SCHEME) :])


async def open_storage(
    url: str, *, pending_key: bytes | None = None, key_vault: Path | None = None
) -> Storage:
    """Open the database named by DATABASE_URL and bring its schema up to date. PostgreSQL
    needs `pending_key` (derived from SECRET_KEY) and a `key_vault` folder (see
    storage/postgres/README.md); SQLite needs neither."""
    if backend_of(url) == "postgres":
        from storage.postgres import open_postgres  # asyncpg only when it is used

        if pending_key is None or key_vault is None:
            raise ValueError("a PostgreSQL storage needs the pending-response key and a vault")
        return await open_postgres(url, pending_key, key_vault)
    from storage.sqlite import open_sqlite

    return await open_sqlite(url)
