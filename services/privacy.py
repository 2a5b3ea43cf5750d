"""Pseudonyms and encryption derived from the master secret.

Nothing that identifies a person (user id, chat id, name) is ever stored in the clear:
rows about a person are keyed by an HMAC pseudonym, and chat ids the bot must write to later
are sealed with AES-GCM. Each purpose gets its own key derived from SECRET_KEY with HKDF.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE_BYTES = 12
# Telegram user and chat ids have 5 or more digits; any such run is masked where text is kept,
# glued to letters too ("id6100040001").
_LONG_NUMBER = re.compile(r"(?<!\d)-?\d{5,}")


def mask_long_numbers(text: str) -> str:
    """Mask every run of 5+ digits: ids, phone numbers, document numbers."""
    return _LONG_NUMBER.sub("<id>", text)


class UndecryptableError(ValueError):
    """A sealed value could not be opened: wrong key or tampered data."""


def derive_key(master: bytes, purpose: str) -> bytes:
    """Derive a 32-byte key for one purpose from the master secret."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"vyraj/v1", info=purpose.encode())
    return hkdf.derive(master)


class Sealer:
    """AES-GCM encryption of small values with a fixed purpose label as associated data."""

    def __init__(self, key: bytes, purpose: str) -> None:
        self._aead = AESGCM(key)
        self._aad = purpose.encode()

    def seal(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, self._aad)

    def open(self, sealed: bytes) -> bytes:
        if len(sealed) <= _NONCE_BYTES:
            raise UndecryptableError("sealed value too short")
        try:
            return self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], self._aad)
        except InvalidTag as exc:
            raise UndecryptableError("sealed value does not open with this key") from exc

    def seal_json(self, value: Any) -> bytes:
        return self.seal(json.dumps(value, separators=(",", ":")).encode())

    def open_json(self, sealed: bytes) -> Any:
        return json.loads(self.open(sealed))


class Keyring:
    """All keys the bot derives from SECRET_KEY, one per purpose."""

    def __init__(self, master: bytes) -> None:
        if len(master) < 16:
            raise ValueError("the master secret must be at least 16 bytes")
        self._user_key = derive_key(master, "pseudonym/user")
        self._fsm_key = derive_key(master, "pseudonym/fsm")
        self._feedback_key = derive_key(master, "pseudonym/feedback")
        self._check_key = derive_key(master, "key-check")
        self.fsm_sealer = Sealer(derive_key(master, "seal/fsm"), "fsm")
        self._subscriber_key = derive_key(master, "pseudonym/subscriber")
        self.wave_key_sealer = Sealer(derive_key(master, "seal/wave-key"), "wave-key")
        self.subscriber_sealer = Sealer(derive_key(master, "seal/subscriber"), "subscriber")
        self._chat_key = derive_key(master, "pseudonym/chat")
        self._audit_key = derive_key(master, "pseudonym/audit")
        self.chat_sealer = Sealer(derive_key(master, "seal/chat"), "chat")
        self.poll_key_sealer = Sealer(derive_key(master, "seal/poll-key"), "poll-key")

    def user_pseudonym(self, user_id: int) -> str:
        """Stable pseudonym of a Telegram user, the key of every row about them."""
        return _hmac_hex(self._user_key, str(user_id))

    def fsm_pseudonym(self, parts: tuple[object, ...]) -> str:
        """Pseudonym of an aiogram FSM storage key (bot, chat, user, thread, destiny)."""
        return _hmac_hex(self._fsm_key, ":".join(str(part) for part in parts))

    def feedback_voter(self, user_id: int, article_id: str) -> str:
        """One vote per person per article, unlinkable across articles."""
        return _hmac_hex(self._feedback_key, f"{user_id}:{article_id}")

    def subscriber(self, user_id: int) -> bytes:
        """Key of a "tell me about new waves" row: unlinkable to survey responses."""
        return hmac.new(self._subscriber_key, str(user_id).encode(), hashlib.sha256).digest()

    def chat_key(self, chat_id: int) -> bytes:
        """Key of a group or channel's row: its id is kept only sealed."""
        return hmac.new(self._chat_key, str(chat_id).encode(), hashlib.sha256).digest()

    def audit_admin(self, user_id: int) -> str:
        """An admin in the audit log: the same admin is recognisable, never identifiable."""
        return _hmac_hex(self._audit_key, str(user_id))[:16]

    def check_value(self) -> str:
        """A value stored in the database to detect a SECRET_KEY that does not match it."""
        return _hmac_hex(self._check_key, "vyraj-key-check")

    def seal_chat(self, chat_id: int, title: str) -> bytes:
        """A group or channel the bot must write to later: its id and title, encrypted."""
        return self.chat_sealer.seal_json({"id": chat_id, "title": title})

    def open_chat(self, sealed: bytes) -> tuple[int, str]:
        details = self.chat_sealer.open_json(sealed)
        return int(details["id"]), str(details["title"])


def respondent_pseudonym(wave_key: bytes, user_id: int) -> bytes:
    """A person's key in one wave; unlinkable to anything once the wave key is destroyed."""
    return hmac.new(wave_key, str(user_id).encode(), hashlib.sha256).digest()


def _hmac_hex(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()
