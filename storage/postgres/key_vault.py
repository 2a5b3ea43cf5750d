"""Crypto-shredding of wave and census-poll keys: each is stored in PostgreSQL wrapped under a
key-encryption key (KEK) kept in a file outside it, and closing the wave or poll deletes that
file. The copies of the wrapped key that PostgreSQL keeps (dead tuples, WAL, archives, base
backups, replicas) then open nothing, even with SECRET_KEY."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# Work to do once the unit of work committed (destroying a closed wave's or poll's KEK).
AfterCommit = Callable[[], Awaitable[None]]
# Marks a wrapped value; one stored before the vault was required (or copied by migrate-db)
# starts with a random nonce instead.
MAGIC = b"vyraj/kek/v1\x00\x00\x00\x00"
_ID_BYTES = 16
_NONCE_BYTES = 12


class KeyVaultError(Exception):
    """KEY_VAULT_DIR cannot be used; the message is one line without the setting's name."""


class KeyVault:
    """KEKs in one folder shared by every instance (KEY_VAULT_DIR), one file each.

    A KEK is read from its file at every use, never kept in memory: another instance may close
    the wave and delete the file at any moment, and no copy may outlive it here."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    @staticmethod
    def create(folder: Path) -> KeyVault:
        """The vault in `folder`, created readable by the owner only; KeyVaultError when it
        cannot be created or written."""
        if folder.exists() and not folder.is_dir():
            raise KeyVaultError(f"{folder} is not a folder")
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise KeyVaultError(f"cannot create the folder {folder} ({exc.strerror})") from None
        if not os.access(folder, os.W_OK | os.X_OK):
            raise KeyVaultError(f"the folder {folder} is not writable")
        return KeyVault(folder)

    def _path(self, kek_id: bytes) -> Path:
        return self._folder / f"{kek_id.hex()}.kek"

    async def wrap(self, key_sealed: bytes) -> bytes:
        """A new KEK, in its file before the wrapped key can be committed anywhere."""
        kek_id, kek = os.urandom(_ID_BYTES), AESGCM.generate_key(bit_length=256)
        await asyncio.to_thread(self._write, kek_id, kek)
        nonce = os.urandom(_NONCE_BYTES)
        return MAGIC + kek_id + nonce + AESGCM(kek).encrypt(nonce, key_sealed, MAGIC + kek_id)

    async def unwrap(self, stored: bytes) -> bytes | None:
        """The key as sealed under SECRET_KEY; None once its KEK was shredded."""
        if not stored.startswith(MAGIC):
            return stored  # stored before the vault was required
        kek_id = stored[len(MAGIC) : len(MAGIC) + _ID_BYTES]
        kek = await asyncio.to_thread(self._read, kek_id)
        if kek is None:
            return None
        body = stored[len(MAGIC) + _ID_BYTES :]
        try:
            return AESGCM(kek).decrypt(body[:_NONCE_BYTES], body[_NONCE_BYTES:], MAGIC + kek_id)
        except InvalidTag:
            return None

    async def shred(self, stored: bytes) -> None:
        """Destroy the KEK `stored` is wrapped under (overwritten, then deleted)."""
        if not stored.startswith(MAGIC):
            return
        kek_id = stored[len(MAGIC) : len(MAGIC) + _ID_BYTES]
        await asyncio.to_thread(self._destroy, kek_id)

    def _write(self, kek_id: bytes, kek: bytes) -> None:
        fd = os.open(self._path(kek_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, kek)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _read(self, kek_id: bytes) -> bytes | None:
        try:
            return self._path(kek_id).read_bytes()
        except FileNotFoundError:
            return None

    def _destroy(self, kek_id: bytes) -> None:
        path = self._path(kek_id)
        with contextlib.suppress(FileNotFoundError):
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, bytes(32))
                os.fsync(fd)
            finally:
                os.close(fd)
            path.unlink()
