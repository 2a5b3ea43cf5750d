"""Survey responses waiting for the next publication, sealed so that the time they were
written (their position, `xmin`, the WAL) tells nothing about whose or which answers they are.

The row is keyed by a tag (an HMAC of the wave and the respondent pseudonym under the pending
key), never by the pseudonym itself, so it cannot be matched to the response row it becomes.
Each wave's pending key is derived from SECRET_KEY and the wave's own key, which the key vault
destroys at the close: from then on no copy of a pending row (WAL, backups) opens."""

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


class PendingKeys:
    """Derives each wave's pending sealer; the same SECRET_KEY-derived key on every instance."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the pending-response key must be at least 32 bytes")
        self._key = key

    def for_wave(self, wave_key: bytes) -> PendingSealer:
        """The sealer of the wave whose key (as unwrapped from the vault) is `wave_key`."""
        return PendingSealer(
            hmac.new(self._key, b"vyraj pending wave:" + wave_key, hashlib.sha256).digest()
        )


class PendingSealer:
    """Tags and seals one wave's pending responses."""

    def __init__(self, key: bytes) -> None:
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
