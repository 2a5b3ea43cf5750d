"""Where the master secret comes from: SECRET_KEY, SECRET_KEY_FILE, or a key file beside
the database (created only together with a new database)."""

from __future__ import annotations

import logging
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings

logger = logging.getLogger(__name__)

MIN_KEY_LENGTH = 32


class SecretKeyError(Exception):
    """No usable key; the message is one line naming the variable or file."""


@dataclass(frozen=True)
class MasterSecret:
    value: bytes
    generated_at: Path | None = None  # set when this start created a new key file


def key_file_for(database_path: Path) -> Path:
    return database_path.with_name(database_path.name + ".key")


def key_file_in_data_folder(settings: Settings) -> Path | None:
    """The key file when it sits in the database's folder (so a backup of that folder holds the
    key and the data together); None when the key is kept elsewhere."""
    if settings.secret_key is not None:
        return None
    path = settings.secret_key_file or key_file_for(settings.database_path)
    folder = settings.database_path.parent.resolve()
    return path if path.resolve().is_relative_to(folder) else None


def resolve_master_secret(
    settings: Settings, *, database_is_new: bool | None = None
) -> MasterSecret:
    """SECRET_KEY, else SECRET_KEY_FILE, else the key file beside the database; that file is
    created (mode 0600) only for a new database (by default: one that does not exist yet)."""
    if database_is_new is None:
        database_is_new = not settings.database_path.exists()
    if settings.secret_key is not None:
        return MasterSecret(settings.secret_key.get_secret_value().encode())
    if settings.secret_key_file is not None:
        return MasterSecret(read_key_file(settings.secret_key_file, "SECRET_KEY_FILE"))
    path = key_file_for(settings.database_path)
    if path.exists():
        return MasterSecret(read_key_file(path, "the key file"))
    if not database_is_new:
        raise SecretKeyError(
            f"SECRET_KEY: not set, and the key file {path} is missing; this database needs the "
            "key it was created with: restore the key file, or set SECRET_KEY or SECRET_KEY_FILE"
        )
    return MasterSecret(create_key_file(path), generated_at=path)


def read_key_file(path: Path, source: str) -> bytes:
    """The key in `path`, stripped; warns once when others may read the file."""
    try:
        value = path.read_bytes().strip()
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError as exc:
        raise SecretKeyError(f"{source}: cannot read {path} ({exc.strerror})") from None
    if not value:
        raise SecretKeyError(f"{source}: {path} is empty; restore the key it held")
    if len(value) < MIN_KEY_LENGTH:
        raise SecretKeyError(f"{source}: the key in {path} is shorter than 32 characters")
    if mode & 0o044:
        logger.warning(
            "%s is readable by group or others (mode %04o): restrict it with chmod 600", path, mode
        )
    return value


def create_key_file(path: Path) -> bytes:
    """Write a new random key to `path` (which must not exist yet), readable by the owner only."""
    value = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise SecretKeyError(f"SECRET_KEY: cannot create {path} ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as key_file:
            key_file.write(value + b"\n")
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise SecretKeyError(f"SECRET_KEY: cannot write {path} ({exc.strerror})") from None
    return value
