"""Which groups and channels the bot is in (my_chat_member): recorded when added, marked
inactive when removed, and their open polls closed in the records."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import IS_MEMBER
from aiogram.types import Chat, ChatMemberUpdated

from services.clock import Clock
from services.policy import Policy
from services.polls.closing import close_chat_polls
from services.privacy import Keyring
from storage import ChatRecord, Storage


def chat_record(keyring: Keyring, chat: Chat, active: bool) -> ChatRecord:
    sealed = keyring.seal_chat(chat.id, chat.title or "")
    return ChatRecord(keyring.chat_key(chat.id), sealed, chat.type, active)


async def remember_chat(storage: Storage, keyring: Keyring, chat: Chat, active: bool) -> None:
    async with storage.transaction() as tx:
        await tx.polls.save_chat(chat_record(keyring, chat, active))


async def on_membership(
    event: ChatMemberUpdated, storage: Storage, keyring: Keyring, clock: Clock, policy: Policy
) -> None:
    if event.chat.type not in ("group", "supergroup", "channel"):
        return  # a private chat: someone started or blocked the bot
    if IS_MEMBER.check(member=event.new_chat_member):
        await remember_chat(storage, keyring, event.chat, active=True)
    else:
        removed = chat_record(keyring, event.chat, active=False)
        await close_chat_polls(storage, removed, clock.local_now(policy.timezone))


def create_router() -> Router:
    router = Router(name="chats")
    router.my_chat_member.register(on_membership)
    return router
