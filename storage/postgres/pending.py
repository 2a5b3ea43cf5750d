"""Survey responses waiting for the next publication, sealed so that the time they were
written (their position, `xmin`, the WAL) tells nothing about whose or which answers they are.

The row is keyed by a tag (an HMAC of the wave and the respondent pseudonym under the pending
key), never by the pseudonym itself, so it cannot be matched to the response row it becomes.
The pending key is derived from SECRET_KEY and never stored in the database."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12


@dataclass(frozen=True)
class PendingResponse:
    respondent: bytes
    week: str
    answers: str
    changed: bool  # as SQLite's mark: set by any save that changed the stored answers


class PendingSealer:
    """Tags and seals pending responses; the same key on every instance."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the pending-response key must be at least 32 bytes")
        self._tag_key = hmac.new(key, b"vyraj pending tag", hashlib.sha256).digest()
        self._aead = AESGCM(hmac.new(key, b"vyraj pending seal", hashlib.sha256).digest())

    def tag(self, wave_id: int, respondent: bytes) -> bytes:
        return hmac.new(self._tag_key, b"%d:" % wave_id + respondent, hashlib.sha256).digest()

    def seal(self, wave_id: int, tag: bytes, response: PendingResponse) -> bytes:
        plain = json.dumps(
            [response.respondent.hex(), response.week, response.answers, response.changed]
        ).encode()
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plain, b"%d:" % wave_id + tag)

    def open(self, wave_id: int, tag: bytes, sealed: bytes) -> PendingResponse:
        plain = self._aead.decrypt(
            sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], b"%d:" % wave_id + tag
        )
        respondent, week, answers, changed = json.loads(plain)
        return PendingResponse(bytes.fromhex(respondent), str(week), str(answers), bool(changed))
