"""Counting votes: a census vote under its poll's pseudonym, Telegram's counts of a native
poll, and the census tallies shown on the live buttons, in steps; each one unit of work."""

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


async def recount_census(storage: Storage, poll_id: int, min_cell_size: int) -> Poll | None:
    """Take a new shown snapshot of the census tallies once at least `min_cell_size` people
    voted or changed their vote since the last one (so no step traces one voter); returns the
    poll when it did, None otherwise (counts hidden until close, too few new votes, closed)."""
    async with storage.transaction() as tx:
        poll = await tx.polls.get_poll(poll_id)
        if poll is None or not poll.is_open or poll.hidden_counts:
            return None
        if await tx.polls.unshown_voters(poll.id) < min_cell_size:
            return None
        await tx.polls.set_tallies(
            poll.id, await tx.polls.census_tallies(poll.id, len(poll.options))
        )
        await tx.polls.mark_votes_shown(poll.id)
        return await tx.polls.get_poll(poll.id)
