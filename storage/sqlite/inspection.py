"""Looking at a database file before opening it for writing: is it new, Vyraj's, or not?

Read-only throughout, so a file Vyraj did not create is never changed.
"""

from __future__ import annotations

import enum
import os
import sqlite3
import stat
from pathlib import Path

from storage.migrations import available_migrations

# Written into the SQLite header (PRAGMA application_id) of every database Vyraj opens: "Vyrj".
VYRAJ_APPLICATION_ID = 0x5679726A
_SQLITE_MAGIC = b"SQLite format 3\x00"


class DatabaseFileError(Exception):
    """The database file cannot be used; the message is one line naming the path."""


class DatabaseFile(enum.Enum):
    MISSING = "missing"
    EMPTY = "empty"  # a 0-byte file, or SQLite with no tables yet
    VYRAJ = "vyraj"


def inspect_database(path: Path) -> DatabaseFile:
    """What is at `path`; raises DatabaseFileError when Vyraj must not (or cannot) use it."""
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return DatabaseFile.MISSING
    except OSError as exc:
        raise DatabaseFileError(f"{path} cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise DatabaseFileError(f"{path} is not a regular file")
    _require_writable(path, info)
    if info.st_size == 0:
        return DatabaseFile.EMPTY
    try:
        with path.open("rb") as file:
            header = file.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise DatabaseFileError(f"{path} cannot be read ({exc.strerror})") from None
    if header != _SQLITE_MAGIC:
        raise DatabaseFileError(
            f"{path} is not a Vyraj database (no SQLite header): if it was one, it is damaged; "
            "restore a backup, or point DATABASE_URL at another file"
        )
    try:
        return _inspect_sqlite(path)
    except sqlite3.DatabaseError as exc:
        cause = " ".join(str(exc).replace("*** in database main ***", "").split())
        raise DatabaseFileError(f"{path} is damaged ({cause}); restore a backup") from None


def _require_writable(path: Path, info: os.stat_result) -> None:
    mode = stat.S_IMODE(info.st_mode)
    if os.statvfs(path).f_flag & os.ST_RDONLY:
        raise DatabaseFileError(f"{path} is on a read-only file system")
    # Mode bits are checked too: root may write anything, but a 0444 file says "do not".
    if not mode & 0o222:
        raise DatabaseFileError(f"{path} is read-only (mode {mode:04o})")
    if not os.access(path, os.W_OK):
        raise DatabaseFileError(f"{path} cannot be written by this user (mode {mode:04o})")
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        # SQLite keeps its -wal and -shm files beside the database.
        raise DatabaseFileError(f"{path}: its folder {folder} is not writable")


def _inspect_sqlite(path: Path) -> DatabaseFile:
    # immutable: no locks and no -shm file, so inspecting leaves nothing behind.
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        application_id = _pragma(conn, "application_id")
        version = _pragma(conn, "user_version")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        problems = [row[0] for row in conn.execute("PRAGMA quick_check(3)")]
    finally:
        conn.close()
    if problems != ["ok"]:
        raise sqlite3.DatabaseError("; ".join(str(problem) for problem in problems))
    latest = len(available_migrations())
    if application_id == 0 and version == 0 and not tables:
        return DatabaseFile.EMPTY
    # Databases made before the application id was stamped are known by their schema.
    known = application_id == VYRAJ_APPLICATION_ID or (
        application_id == 0 and version > 0 and "meta" in tables
    )
    if not known:
        raise DatabaseFileError(
            f"{path} is an SQLite database of another program, not Vyraj's; "
            "point DATABASE_URL at another file"
        )
    if version > latest:
        raise DatabaseFileError(
            f"{path} is at schema version {version}, newer than this Vyraj ({latest}); "
            "upgrade Vyraj"
        )
    return DatabaseFile.VYRAJ


def _pragma(conn: sqlite3.Connection, name: str) -> int:
    row = conn.execute(f"PRAGMA {name}").fetchone()
    return int(row[0]) if row else 0
