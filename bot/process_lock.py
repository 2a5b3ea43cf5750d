"""One `vyraj run` per SQLite database: a second one would message subscribers twice. The lock
is the kernel's (flock), so it goes with the process however it ends, kill -9 included."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from bot.telegram_retry import StartupError


def lock_file_for(database_path: Path) -> Path:
    return database_path.with_name(database_path.name + ".lock")


@contextlib.contextmanager
def hold_database_lock(database_path: Path) -> Iterator[Path]:
    """Hold the database's lock while the block runs; yields the lock file. Another process
    holding it already is one line: StartupError."""
    path = lock_file_for(database_path)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StartupError(
                f"DATABASE_URL: another Vyraj is already running on {database_path} "
                f"(it holds {path.name}); stop it first"
            ) from None
        yield path
    finally:
        os.close(fd)  # closing the file releases the lock
