"""Which groups and channels the bot is in (my_chat_member): recorded when added, marked
inactive when removed, and their open polls closed in the records."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.filters import IS_MEMBER
from aiogram.types import Chat, ChatMemberUpdated

from services.clock import Clock
from services.privacy import Keyring
from storage import ChatRecord, Storage


async def remember_chat(storage: Storage, keyring: Keyring, chat: Chat, active: bool) -> None:
    sealed = keyring.seal_chat(chat.id, chat.title or "")
    await storage.polls.save_chat(ChatRecord(keyring.chat_key(chat.id), sealed, chat.type, active))


async def on_membership(
    event: ChatMemberUpdated, storage: Storage, keyring: Keyring, clock: Clock, timezone: ZoneInfo
) -> None:
    if event.chat.type not in ("group", "supergroup", "channel"):
        return  # a private chat: someone started or blocked the bot
    present = IS_MEMBER.check(member=event.new_chat_member)
    await remember_chat(storage, keyring, event.chat, present)
    if not present:
        chat_key = keyring.chat_key(event.chat.id)
        today = clock.today(timezone)
        for poll in await storage.polls.open_polls():
            if poll.chat_key == chat_key:
                tallies = poll.tallies
                if poll.kind == "census":
                    tallies = await storage.polls.census_tallies(poll.id, len(poll.options))
                await storage.polls.close_poll(poll.id, today, tallies)


def create_router() -> Router:
    router = Router(name="chats")
    router.my_chat_member.register(on_membership)
    return router
