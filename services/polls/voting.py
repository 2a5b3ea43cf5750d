"""Counting votes: a census vote under its poll's pseudonym, Telegram's counts of a native
poll, and the census tallies recounted for the live buttons; each one unit of work."""

from __future__ import annotations

from services.privacy import Keyring, respondent_pseudonym
from storage import Poll, Storage


async def record_census_vote(
    storage: Storage, keyring: Keyring, poll: Poll, user_id: int, option: int
) -> tuple[int, ...] | None:
    """Set the vote (single choice: pressing again keeps it, so repeated taps count once) or
    toggle an option (multiple choice); returns the person's choice, or None when the vote is
    refused (closed poll, unknown option)."""
    if not poll.is_open or poll.voter_key_sealed is None or not 0 <= option < len(poll.options):
        return None
    voter = respondent_pseudonym(keyring.poll_key_sealer.open(poll.voter_key_sealed), user_id)
    async with storage.transaction() as tx:
        current = await tx.polls.get_vote(poll.id, voter)
        choice = tuple(sorted(set(current) ^ {option})) if poll.multiple else (option,)
        if choice != current and not await tx.polls.vote(poll.id, voter, choice):
            return None  # closed since the poll was read
    return choice


async def record_native_counts(
    storage: Storage, telegram_poll_id: str, counts: tuple[int, ...]
) -> None:
    """Telegram's counts of an anonymous poll the bot sent, while it is open."""
    poll = await storage.polls.poll_by_telegram_id(telegram_poll_id)
    if poll is None or not poll.is_open or len(counts) != len(poll.options):
        return
    async with storage.transaction() as tx:
        await tx.polls.set_tallies(poll.id, counts)


async def recount_census(storage: Storage, poll_id: int) -> Poll | None:
    """Store the census poll's current tallies; returns it, or None if it is closed or gone."""
    async with storage.transaction() as tx:
        poll = await tx.polls.get_poll(poll_id)
        if poll is None or not poll.is_open:
            return None
        await tx.polls.set_tallies(
            poll.id, await tx.polls.census_tallies(poll.id, len(poll.options))
        )
        return await tx.polls.get_poll(poll.id)
