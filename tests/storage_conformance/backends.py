"""The storage backends the conformance suite runs against: the one place a backend plugs in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from storage import Storage, open_storage
from tests.servers.postgres import PostgresCluster

PENDING_KEY = b"p" * 32
# Opens a fresh, empty, migrated storage that keeps its files under the given folder.
OpenStorage = Callable[[Path], Awaitable[Storage]]


async def open_sqlite(folder: Path) -> Storage:
    return await open_storage(f"sqlite:///{folder / 'vyraj.sqlite3'}")


def sqlite_backend(request: pytest.FixtureRequest) -> OpenStorage:
    return open_sqlite


def postgres_backend(request: pytest.FixtureRequest) -> OpenStorage:
    """Each folder is a new database of the session's throw-away cluster, with its key vault
    in the folder; opening the same folder again reopens both."""
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    databases: dict[Path, str] = {}

    async def open_postgres(folder: Path) -> Storage:
        if folder not in databases:
            databases[folder] = await cluster.fresh_database()
        return await open_storage(
            databases[folder], pending_key=PENDING_KEY, key_vault=folder / "key-vault"
        )

    return open_postgres


# How each backend is set up for one test (a server-backed one asks for its fixture).
BACKENDS: dict[str, Callable[[pytest.FixtureRequest], OpenStorage]] = {
    "sqlite": sqlite_backend,
    "postgres": postgres_backend,
}
