"""The groups and channels the bot is in, kept sealed under a keyed pseudonym of the chat."""

from __future__ import annotations

from services.privacy import Keyring
from storage import ChatRecord, Storage


def chat_record(
    keyring: Keyring, chat_id: int, title: str, chat_type: str, *, active: bool
) -> ChatRecord:
    return ChatRecord(
        keyring.chat_key(chat_id), keyring.seal_chat(chat_id, title), chat_type, active
    )


async def remember_chat(
    storage: Storage, keyring: Keyring, chat_id: int, title: str, chat_type: str
) -> None:
    """The bot is in this chat (added, or a poll was started there): record it active."""
    async with storage.transaction() as tx:
        await tx.polls.save_chat(chat_record(keyring, chat_id, title, chat_type, active=True))
