"""Closing a poll, as one unit of work: tally, close, destroy census votes and key, audit, and
queue its results for every chat it ran in (bot/poll_results.py posts them, retrying)."""

from __future__ import annotations

import datetime as dt

from storage import ChatRecord, Poll, Storage, Transaction

BY_THE_BOT = "bot"  # the audit's "admin" when the bot acts on its own


def hour_stamp(now: dt.datetime) -> str:
    """The audit log's coarse time: no finer than the hour."""
    return now.strftime("%Y-%m-%dT%H:00")


async def close_poll(
    storage: Storage,
    poll_id: int,
    now: dt.datetime,
    closed_by: str,
    final: tuple[int, ...] | None = None,
) -> tuple[Poll, ChatRecord | None] | None:
    """Close the poll and audit it (a Telegram poll with its `final` counts, if known);
    returns it closed, with its chat, or None when it was closed already (or never existed)."""
    async with storage.transaction() as tx:
        closed = await _close(tx, poll_id, now, closed_by, final)
        if closed is None:
            return None
        chat = await tx.polls.get_chat(closed.chat_key)
    await _off_the_disk(storage, [closed])
    return closed, chat


async def close_chat_polls(storage: Storage, chat: ChatRecord, now: dt.datetime) -> list[Poll]:
    """The bot left the chat: record it inactive and close its open polls in the records."""
    async with storage.transaction() as tx:
        await tx.polls.save_chat(chat)
        closed: list[Poll] = []
        for poll in await tx.polls.open_polls():
            if poll.chat_key == chat.chat_key:
                done = await _close(tx, poll.id, now, BY_THE_BOT)
                if done is not None:
                    closed.append(done)
    await _off_the_disk(storage, closed)
    return closed


async def _off_the_disk(storage: Storage, closed: list[Poll]) -> None:
    """Census votes and keys linger in the WAL until a checkpoint; if a reader blocks it now,
    the storage finishes it in the background."""
    if any(poll.kind == "census" for poll in closed):
        await storage.checkpoint_truncate()


async def _close(
    tx: Transaction,
    poll_id: int,
    now: dt.datetime,
    closed_by: str,
    final: tuple[int, ...] | None = None,
) -> Poll | None:
    poll = await tx.polls.get_poll(poll_id)
    if poll is None or not poll.is_open:
        return None
    tallies = poll.tallies
    if final is not None and poll.kind == "native" and len(final) == len(poll.options):
        tallies = final
    if poll.kind == "census":
        tallies = await tx.polls.census_tallies(poll.id, len(poll.options))
    if not await tx.polls.close_poll(poll.id, now.date(), tallies):
        return None
    await tx.polls.audit(hour_stamp(now), "close", poll.chat_key, closed_by, poll.id)
    for copy in await tx.polls.copies(poll.id):
        chat = await tx.polls.get_chat(copy.chat_key)
        if chat is not None and chat.active:  # a chat the bot left hears nothing
            await tx.polls.queue_results(poll.id, copy.chat_key, copy.message_id)
    return await tx.polls.get_poll(poll.id)
