"""One process at a time owns a database: `vyraj run` and `vyraj restore` hold its lock file."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


class DatabaseBusyError(Exception):
    """Another process (a running bot, or a restore) holds the database's lock."""


def lock_file_for(database_path: Path) -> Path:
    return database_path.with_name(database_path.name + ".lock")


@contextlib.contextmanager
def hold_database_lock(database_path: Path) -> Iterator[None]:
    """Hold the lock beside the database until the block ends; refuse if someone else has it.

    The kernel drops the lock with the process, so a crash never leaves it stale."""
    path = lock_file_for(database_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseBusyError(
                f"{database_path}: in use by another Vyraj process (a running bot?)"
            ) from None
        yield
    finally:
        os.close(fd)
