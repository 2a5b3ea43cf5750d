"""New-wave subscriptions and their sealed record (the private chat to tell, in which
language): the one place that knows the record's format."""

from __future__ import annotations

from dataclasses import dataclass

from services.privacy import Keyring, UndecryptableError
from storage import Storage


@dataclass(frozen=True)
class SubscriberRecord:
    chat_id: int
    locale: str


def open_subscriber(keyring: Keyring, sealed: bytes) -> SubscriberRecord | None:
    """The record inside `sealed`; None if it cannot be read (another key, or damaged)."""
    try:
        payload = keyring.subscriber_sealer.open_json(sealed)
        return SubscriberRecord(int(payload["chat"]), str(payload["locale"]))
    except (UndecryptableError, KeyError, TypeError, ValueError):
        return None


async def subscribe(storage: Storage, keyring: Keyring, user_id: int, locale: str) -> None:
    """Tell this person (in their private chat) about the next wave that opens."""
    sealed = keyring.subscriber_sealer.seal_json({"chat": user_id, "locale": locale})
    async with storage.transaction() as tx:
        wave = await tx.survey.current_wave()
        # Someone subscribing now knows of the open wave already.
        told_of = 0 if wave is None else wave.id
        await tx.subscriptions.subscribe(keyring.subscriber(user_id), sealed, told_of)


async def unsubscribe(storage: Storage, keyring: Keyring, user_id: int) -> bool:
    """No more new-wave messages; False if the person was not subscribed."""
    async with storage.transaction() as tx:
        return await tx.subscriptions.unsubscribe(keyring.subscriber(user_id))
