"""Which groups and channels the bot is in (my_chat_member): recorded when added, marked
inactive when removed, and their open polls closed in the records (a pooled poll's results
still go to its other chats)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import IS_MEMBER
from aiogram.types import ChatMemberUpdated

from bot.poll_actions import PollActions
from services.clock import Clock
from services.policy import Policy
from services.polls.chats import chat_record, remember_chat
from services.polls.closing import close_chat_polls
from services.privacy import Keyring
from storage import Storage


async def on_membership(
    event: ChatMemberUpdated,
    storage: Storage,
    keyring: Keyring,
    clock: Clock,
    policy: Policy,
    poll_actions: PollActions,
) -> None:
    chat = event.chat
    if chat.type not in ("group", "supergroup", "channel"):
        return  # a private chat: someone started or blocked the bot
    if IS_MEMBER.check(member=event.new_chat_member):
        await remember_chat(storage, keyring, chat.id, chat.title or "", chat.type)
    else:
        removed = chat_record(keyring, chat.id, chat.title or "", chat.type, active=False)
        closed = await close_chat_polls(storage, removed, clock.local_now(policy.timezone))
        if closed:  # a pooled poll's other chats still get its results
            await poll_actions.post_due_results()


def create_router() -> Router:
    router = Router(name="chats")
    router.my_chat_member.register(on_membership)
    return router
