"""The storage backends the conformance suite runs against: the one place a new backend
(PostgreSQL, say) plugs in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from storage import Storage, open_storage

# Opens a fresh, empty, migrated storage that keeps its files under the given folder.
OpenStorage = Callable[[Path], Awaitable[Storage]]


async def open_sqlite(folder: Path) -> Storage:
    return await open_storage(f"sqlite:///{folder / 'vyraj.sqlite3'}")


BACKENDS: dict[str, OpenStorage] = {"sqlite": open_sqlite}
