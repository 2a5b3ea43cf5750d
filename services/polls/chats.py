"""The groups and channels the bot is in, kept sealed under a keyed pseudonym of the chat."""

from __future__ import annotations

from services.privacy import Keyring
from storage import ChatRecord, Storage


def chat_record(
    keyring: Keyring,
    chat_id: int,
    title: str,
    chat_type: str,
    *,
    active: bool,
    forum: bool = False,
) -> ChatRecord:
    return ChatRecord(
        keyring.chat_key(chat_id), keyring.seal_chat(chat_id, title), chat_type, active, forum
    )


async def remember_chat(
    storage: Storage,
    keyring: Keyring,
    chat_id: int,
    title: str,
    chat_type: str,
    *,
    forum: bool = False,
) -> None:
    """The bot is in this chat (added, or a poll was started there): record it active."""
    record = chat_record(keyring, chat_id, title, chat_type, active=True, forum=forum)
    async with storage.transaction() as tx:
        await tx.polls.save_chat(record)


async def move_chat(
    storage: Storage, keyring: Keyring, old_id: int, new_id: int, title: str, *, forum: bool
) -> bool:
    """A group upgraded to a supergroup (a new chat id): its record and polls follow, and so
    do their scheduled closes, which find a poll by its own id. False if the group was unknown."""
    record = chat_record(keyring, new_id, title, "supergroup", active=True, forum=forum)
    async with storage.transaction() as tx:
        return await tx.polls.move_chat(keyring.chat_key(old_id), record)
