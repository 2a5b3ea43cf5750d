"""`vyraj health`: the database opens and the bot reached the Bot API lately."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

# The running bot touches the heartbeat file at most this often (bot/heartbeat.py).
TOUCH_INTERVAL_SECONDS = 30.0
# Long polling gets an answer from getUpdates at least every 10 s, so a healthy bot touches the
# file at least every TOUCH_INTERVAL_SECONDS plus one poll; this leaves room for a slow call.
HEALTHY_WITHIN_SECONDS = 90.0


class UnhealthyError(Exception):
    """The bot cannot open its database or has not reached the Bot API lately."""


def heartbeat_file_for(database_path: Path) -> Path:
    return database_path.with_name(database_path.name + ".heartbeat")


def check_health(database_path: Path, *, now: float, max_age: float | None) -> str:
    """One line on a healthy bot; raises UnhealthyError saying what is wrong."""
    try:
        with contextlib.closing(
            sqlite3.connect(f"{database_path.resolve().as_uri()}?mode=ro", uri=True)
        ) as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        raise UnhealthyError(f"the database does not open read-only: {exc}") from None
    try:
        age = now - heartbeat_file_for(database_path).stat().st_mtime
    except FileNotFoundError:
        raise UnhealthyError("no successful Bot API call yet") from None
    if max_age is not None and age > max_age:
        raise UnhealthyError(f"no successful Bot API call for {age:.0f} s")
    return f"healthy: the database opens, last Bot API call {max(age, 0):.0f} s ago"
