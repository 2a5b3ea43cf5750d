"""Which groups and channels the bot is in (my_chat_member): recorded when added, marked
inactive when removed, and their open polls closed in the records (a pooled poll's results
still go to its other chats); a group upgraded to a supergroup keeps its polls; a chat member
whose status changed is asked about afresh."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import IS_MEMBER
from aiogram.types import ChatMemberUpdated, Message

from bot.chat_admins import ChatAdminCache
from bot.poll_actions import PollActions
from services.clock import Clock
from services.policy import Policy
from services.polls.chats import chat_record, move_chat, remember_chat
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
        await remember_chat(
            storage, keyring, chat.id, chat.title or "", chat.type, forum=bool(chat.is_forum)
        )
    else:
        removed = chat_record(keyring, chat.id, chat.title or "", chat.type, active=False)
        closed = await close_chat_polls(storage, removed, clock.local_now(policy.timezone))
        if closed:  # a pooled poll's other chats still get its results
            await poll_actions.post_due_results()


async def on_upgraded(
    message: Message, storage: Storage, keyring: Keyring, poll_actions: PollActions
) -> None:
    """Telegram tells both chats: the old group (migrate_to_chat_id) and the new supergroup
    (migrate_from_chat_id); whichever arrives first moves the records and the census polls."""
    chat = message.chat
    if message.migrate_to_chat_id is not None:
        old_id, new_id, forum = chat.id, message.migrate_to_chat_id, False
    elif message.migrate_from_chat_id is not None:
        old_id, new_id, forum = message.migrate_from_chat_id, chat.id, bool(chat.is_forum)
    else:
        return
    if await move_chat(storage, keyring, old_id, new_id, chat.title or "", forum=forum):
        await poll_actions.carry_over(new_id)


async def on_member_changed(event: ChatMemberUpdated, chat_admins: ChatAdminCache) -> None:
    """Promoted or demoted: the cached answer is dropped, so the change counts at once."""
    chat_admins.forget(event.chat.id, event.new_chat_member.user.id)


def create_router() -> Router:
    router = Router(name="chats")
    router.my_chat_member.register(on_membership)
    router.chat_member.register(on_member_changed)
    router.message.register(
        on_upgraded, F.migrate_to_chat_id.is_not(None) | F.migrate_from_chat_id.is_not(None)
    )
    return router
