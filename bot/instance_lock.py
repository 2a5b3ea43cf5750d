"""One process at a time owns a database: `vyraj run` and `vyraj restore` hold a lock on it.

The lock is `flock` on the database file itself: no extra file is ever created (not beside a file
Vyraj did not create, nor left behind by a failed start), and on Linux it is independent of the
POSIX locks SQLite takes. The descriptor stays open for the holder's life, since closing any
descriptor of the file would drop SQLite's own POSIX locks in this process."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


class DatabaseBusyError(Exception):
    """Another process (a running bot, or a restore) holds the database's lock."""


@contextlib.contextmanager
def hold_database_lock(database_path: Path) -> Iterator[None]:
    """Hold the database's lock until the block ends; refuse if someone else has it. A missing
    database has nobody to refuse. The kernel drops the lock with the process: never stale."""
    try:
        fd = os.open(database_path, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError):
        yield
        return
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
