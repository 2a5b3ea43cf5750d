"""Forgetting a person: everything that can still be linked to them goes, in one transaction,
and then off the disk."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.privacy import Keyring, respondent_pseudonym
from storage import Storage


@dataclass(frozen=True)
class Forgotten:
    responses: int
    subscription: bool
    on_disk: bool  # False: gone from the database, but the disk follows shortly


async def forget_person(
    storage: Storage, keyring: Keyring, user_id: int, fsm_keys: Iterable[str] = ()
) -> Forgotten:
    """Delete every row keyed by a pseudonym of the person (an admin's audit entries only lose
    it); closed waves and polls have no key left, so nothing there is theirs any more."""
    async with storage.transaction() as tx:
        responses = 0
        wave = await tx.survey.current_wave()
        if wave is not None and wave.key_sealed is not None:
            key = keyring.wave_key_sealer.open(wave.key_sealed)
            if await tx.survey.delete_response(wave.id, respondent_pseudonym(key, user_id)):
                responses += 1
        subscription = await tx.subscriptions.unsubscribe(keyring.subscriber(user_id))
        await tx.preferences.forget(keyring.user_pseudonym(user_id))
        await tx.knowledge_stats.forget_votes(
            [
                keyring.feedback_voter(user_id, article_id)
                for article_id in await tx.knowledge_stats.voted_articles()
            ]
        )
        for fsm_key in fsm_keys:
            await tx.fsm.delete(fsm_key)
        for poll in await tx.polls.open_polls():
            if poll.voter_key_sealed is not None:
                key = keyring.poll_key_sealer.open(poll.voter_key_sealed)
                await tx.polls.vote(poll.id, respondent_pseudonym(key, user_id), ())
        await tx.polls.forget_admin(keyring.audit_admin(user_id))
    # Deleted rows linger in the WAL and in the main file's old pages until a checkpoint.
    return Forgotten(responses, subscription, await storage.checkpoint_truncate())
