"""Publishing a poll, in two units of work around the Telegram posts: record it (with a fresh
census key), then attach the posted messages and audit who opened it, or withdraw it if refused.
A census poll may be pooled: posted in several chats, with one tally and one voter key."""

from __future__ import annotations

import datetime as dt
import os

from services.polls.closing import hour_stamp
from services.polls.parsing import PollDraft
from services.privacy import Keyring
from storage import Poll, PollCopy, Storage


async def record_poll(
    storage: Storage,
    keyring: Keyring,
    chat_id: int,
    draft: PollDraft,
    locale: str,
    now: dt.datetime,
    thread_id: int | None = None,
) -> Poll:
    """The poll as drafted, not yet posted; a census poll gets its own sealed voter key."""
    key = keyring.poll_key_sealer.seal(os.urandom(32)) if draft.census else None
    async with storage.transaction() as tx:
        return await tx.polls.create_poll(
            keyring.chat_key(chat_id),
            "census" if draft.census else "native",
            draft.question,
            draft.options,
            draft.multiple,
            now.date(),
            None if draft.close_at is None else draft.close_at.astimezone(dt.UTC),
            key,
            locale,
            hidden_counts=draft.hidden_counts,
            thread_id=thread_id,
        )


async def reattach(storage: Storage, poll: Poll, message_id: int) -> None:
    """The poll's message was posted again (its chat got a new id): votes and key stay."""
    async with storage.transaction() as tx:
        await tx.polls.attach_message(poll.id, message_id, poll.telegram_poll_id)


async def reattach_copy(storage: Storage, poll: Poll, chat_key: bytes, message_id: int) -> None:
    """A pooled poll's copy was posted again in its chat, which got a new id."""
    async with storage.transaction() as tx:
        await tx.polls.add_copy(poll.id, chat_key, message_id)


async def withdraw_unposted(storage: Storage, poll: Poll) -> None:
    """Telegram refused the post: the poll never existed, so no record of it stays."""
    async with storage.transaction() as tx:
        await tx.polls.delete_unposted(poll.id)


def may_pool(draft: PollDraft) -> bool:
    """Only a census can be pooled: each copy of a Telegram poll would count on its own."""
    return draft.census


async def record_posted(
    storage: Storage,
    poll: Poll,
    message_id: int,
    telegram_poll_id: str | None,
    opened_by: str,
    now: dt.datetime,
    copies: tuple[PollCopy, ...] = (),
) -> Poll:
    """Attach the posted message (and a pooled poll's copies in other chats) to the poll and
    audit its opening by `opened_by` in each chat."""
    async with storage.transaction() as tx:
        await tx.polls.attach_message(poll.id, message_id, telegram_poll_id)
        await tx.polls.audit(hour_stamp(now), "open", poll.chat_key, opened_by, poll.id)
        for copy in copies:
            await tx.polls.add_copy(poll.id, copy.chat_key, copy.message_id)
            await tx.polls.audit(hour_stamp(now), "open", copy.chat_key, opened_by, poll.id)
        posted = await tx.polls.get_poll(poll.id)
    assert posted is not None  # polls are only deleted when their chat is forgotten
    return posted
