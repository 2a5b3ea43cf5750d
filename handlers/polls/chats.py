"""Which groups and channels the bot is in (my_chat_member): recorded when added, marked
inactive when removed, and their open polls closed in the records."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import IS_MEMBER
from aiogram.types import ChatMemberUpdated

from services.clock import Clock
from services.policy import Policy
from services.polls.chats import chat_record, remember_chat
from services.polls.closing import close_chat_polls
from services.privacy import Keyring
from storage import Storage


async def on_membership(
    event: ChatMemberUpdated, storage: Storage, keyring: Keyring, clock: Clock, policy: Policy
) -> None:
    chat = event.chat
    if chat.type not in ("group", "supergroup", "channel"):
        return  # a private chat: someone started or blocked the bot
    if IS_MEMBER.check(member=event.new_chat_member):
        await remember_chat(storage, keyring, chat.id, chat.title or "", chat.type)
    else:
        removed = chat_record(keyring, chat.id, chat.title or "", chat.type, active=False)
        await close_chat_polls(storage, removed, clock.local_now(policy.timezone))


def create_router() -> Router:
    router = Router(name="chats")
    router.my_chat_member.register(on_membership)
    return router
