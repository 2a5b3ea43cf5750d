"""Copies of the SQLite file: a consistent snapshot of a live database, a check that a copy is
a sound Vyraj database, and putting a copy in place of the database."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from storage.migrations import available_migrations

# Tables every Vyraj database has had since the first migration.
_REQUIRED_TABLES = frozenset({"meta", "preferences", "fsm_states"})
_SIDE_FILES = ("-wal", "-shm", "-journal")


class UnusableCopyError(Exception):
    """The file is missing, damaged, not a Vyraj database, or cannot be put in place."""


@dataclass(frozen=True)
class CopyFacts:
    """What a sound copy says about itself."""

    schema_version: int
    key_check: str | None  # None in a database the bot never started on


def side_file(database: Path, suffix: str) -> Path:
    return database.with_name(database.name + suffix)


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    if not path.is_file():
        raise UnusableCopyError(f"{path}: no such file")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        yield conn
    finally:
        conn.close()


@contextlib.contextmanager
def _new_file_beside(target: Path) -> Iterator[Path]:
    """An empty file (mode 0600) in the target's folder; removed unless renamed away."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)
        for suffix in _SIDE_FILES:
            side_file(temporary, suffix).unlink(missing_ok=True)


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def snapshot(database: Path, target: Path, *, overwrite: bool = False) -> CopyFacts:
    """Write a consistent copy of a (possibly live) database to `target`, mode 0600.

    `VACUUM INTO` reads one snapshot, so writers carry on; the copy has no free pages, hence no
    remnants of deleted rows. It is checked, then renamed into place."""
    if target.exists() and not overwrite:
        raise UnusableCopyError(f"{target}: already exists (--force replaces it)")
    with _new_file_beside(target) as temporary:
        try:
            with _read_only(database) as conn:
                conn.execute("VACUUM INTO ?", (str(temporary),))
        except sqlite3.Error as exc:
            raise UnusableCopyError(f"{database}: cannot be copied: {exc}") from None
        facts = inspect_copy(temporary)
        _sync(temporary)
        if overwrite:
            temporary.replace(target)
        else:
            try:
                # A hard link never replaces a file that appeared meanwhile.
                os.link(temporary, target)
            except FileExistsError:
                raise UnusableCopyError(
                    f"{target}: already exists (--force replaces it)"
                ) from None
    _sync(target.parent)
    return facts


def inspect_copy(path: Path) -> CopyFacts:
    """Check integrity and that this is a Vyraj database this version can open."""
    latest = available_migrations()[-1].version
    try:
        with _read_only(path) as conn:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise UnusableCopyError(f"{path}: damaged ({problems[0]})")
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            if not 1 <= version <= latest or not tables >= _REQUIRED_TABLES:
                raise UnusableCopyError(f"{path}: not a Vyraj database this version can open")
            row = conn.execute("SELECT value FROM meta WHERE name = 'key_check'").fetchone()
    except sqlite3.Error as exc:
        raise UnusableCopyError(f"{path}: damaged or not a database ({exc})") from None
    return CopyFacts(version, None if row is None else str(row[0]))


def put_in_place(copy: Path, database: Path, *, keep_as: Path) -> None:
    """Replace `database` with a copy of `copy`; the old file is kept as `keep_as`.

    The caller makes sure nothing has the database open."""
    if keep_as.exists():
        raise UnusableCopyError(f"{keep_as}: already exists")
    with _new_file_beside(database) as temporary:
        try:
            with _read_only(copy) as source, contextlib.closing(sqlite3.connect(temporary)) as new:
                source.backup(new)
        except sqlite3.Error as exc:
            raise UnusableCopyError(f"{copy}: cannot be copied: {exc}") from None
        inspect_copy(temporary)  # what goes in place is checked, not only what was read
        _sync(temporary)
        if database.exists():
            database.rename(keep_as)
        # The old file's log goes with it (the pair is complete; it may even be damaged, so it
        # is not opened); left behind, it would be read as part of the new file.
        for suffix in ("-wal", "-journal"):
            if side_file(database, suffix).exists():
                side_file(database, suffix).rename(side_file(keep_as, suffix))
        side_file(database, "-shm").unlink(missing_ok=True)
        temporary.replace(database)
    _sync(database.parent)
