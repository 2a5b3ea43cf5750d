"""`vyraj backup` and `vyraj restore`: the database copied out and put back; never the key."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from pathlib import Path

from bot.instance_lock import hold_database_lock
from bot.secret_key import SecretKeyError, key_file_for, resolve_master_secret
from bot.settings import Settings
from services.clock import Clock
from services.privacy import Keyring
from storage.sqlite.backup import (
    CopyFacts,
    UnusableCopyError,
    inspect_copy,
    put_in_place,
    snapshot,
)

logger = logging.getLogger(__name__)


class RefusedError(Exception):
    """A backup or restore that cannot go ahead; the message is one line for the operator."""


def key_location(settings: Settings) -> str:
    """Where this installation's key lives, for telling the operator to store it apart."""
    if settings.secret_key is not None:
        return "in SECRET_KEY (the environment or .env)"
    if settings.secret_key_file is not None:
        return f"in SECRET_KEY_FILE ({settings.secret_key_file})"
    return f"in the key file {key_file_for(settings.database_path)}"


def _stamp(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


# Names sort as they were taken: rotation removes the first ones.
_BACKUP_NAME = re.compile(r"^vyraj-\d{8}T\d{6}Z\.sqlite3$")


def back_up(settings: Settings, target: Path, *, force: bool, now: dt.datetime) -> Path:
    """Snapshot the database into `target` (a file, or a folder to name one in)."""
    if target.is_dir():
        target = target / f"vyraj-{_stamp(now)}.sqlite3"
    snapshot(settings.database_path, target, overwrite=force)
    return target


def back_up_into_rotation(
    settings: Settings, folder: Path, *, keep: int, now: dt.datetime
) -> Path:
    """Snapshot into `folder` (created, mode 0700), then delete all but the newest `keep`."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = back_up(settings, folder, force=False, now=now)
    taken = sorted(path for path in folder.iterdir() if _BACKUP_NAME.match(path.name))
    for old in taken[:-keep]:
        old.unlink()
    return written


async def take_daily_backup(settings: Settings, folder: Path, clock: Clock) -> Path | None:
    """The scheduler's job: a failed backup is logged and the bot carries on."""
    try:
        written = await asyncio.to_thread(
            back_up_into_rotation, settings, folder, keep=settings.backup_keep, now=clock.now()
        )
    except (UnusableCopyError, OSError) as exc:
        logger.error("The daily backup failed: %s", exc)
        return None
    # Not the file's name: its timestamp would be masked in the log like an id.
    logger.info("Daily backup written into %s", folder)
    return written


def restore(settings: Settings, copy: Path, *, now: dt.datetime) -> Path | None:
    """Put a checked copy in place of the database; return where the replaced one is kept."""
    database = settings.database_path
    if copy.resolve() == database.resolve():
        raise RefusedError(f"{copy}: is the database itself")
    facts = inspect_copy(copy)
    _check_key(settings, copy, facts)
    keep_as = database.with_name(f"{database.name}.before-restore-{_stamp(now)}")
    # Held while the file is swapped, so a bot can neither be running nor start meanwhile.
    with hold_database_lock(database):
        put_in_place(copy, database, keep_as=keep_as)
    return keep_as if keep_as.exists() else None


def _check_key(settings: Settings, copy: Path, facts: CopyFacts) -> None:
    # Restoring never invents a key: a new one could never read the copy.
    try:
        master = resolve_master_secret(settings, database_is_new=False)
    except SecretKeyError as exc:
        raise RefusedError(f"no key: {exc}") from None
    if facts.key_check is None:
        raise RefusedError(f"{copy}: holds no key check, so its key cannot be verified")
    if facts.key_check != Keyring(master.value).check_value():
        raise RefusedError(f"{copy}: does not match the key {key_location(settings)}")
