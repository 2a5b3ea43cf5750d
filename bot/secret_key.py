"""Where the master secret comes from: SECRET_KEY, or a key file beside the database."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings


@dataclass(frozen=True)
class MasterSecret:
    value: bytes
    generated_at: Path | None = None  # set when this start created a new key file


def key_file_for(database_path: Path) -> Path:
    return database_path.with_name(database_path.name + ".key")


def resolve_master_secret(settings: Settings) -> MasterSecret:
    """SECRET_KEY if set; else read (or create, mode 0600) the key file beside the database."""
    if settings.secret_key is not None:
        return MasterSecret(settings.secret_key.get_secret_value().encode())
    path = key_file_for(settings.database_path)
    if path.exists():
        return MasterSecret(path.read_bytes().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    value = secrets.token_hex(32).encode()
    with os.fdopen(fd, "wb") as key_file:
        key_file.write(value + b"\n")
    return MasterSecret(value, generated_at=path)
