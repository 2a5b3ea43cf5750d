"""Forgetting a person: everything that can still be linked to them goes, in one transaction."""

from __future__ import annotations

from collections.abc import Iterable

from services.privacy import Keyring, respondent_pseudonym
from storage import Storage


async def forget_person(
    storage: Storage,
    keyring: Keyring,
    user_id: int,
    article_ids: Iterable[str],
    fsm_keys: Iterable[str] = (),
) -> None:
    """Delete the open wave's response, the subscription, preferences, guide votes, the given
    dialogue states and votes in open census polls. Closed waves and polls have no key left,
    so nothing there is theirs any more."""
    async with storage.transaction() as tx:
        wave = await tx.survey.current_wave()
        if wave is not None and wave.key_sealed is not None:
            key = keyring.wave_key_sealer.open(wave.key_sealed)
            await tx.survey.delete_response(wave.id, respondent_pseudonym(key, user_id))
        await tx.subscriptions.unsubscribe(keyring.subscriber(user_id))
        await tx.preferences.forget(keyring.user_pseudonym(user_id))
        await tx.knowledge_stats.forget_votes(
            [keyring.feedback_voter(user_id, article_id) for article_id in article_ids]
        )
        for fsm_key in fsm_keys:
            await tx.fsm.delete(fsm_key)
        for poll in await tx.polls.open_polls():
            if poll.voter_key_sealed is not None:
                key = keyring.poll_key_sealer.open(poll.voter_key_sealed)
                await tx.polls.vote(poll.id, respondent_pseudonym(key, user_id), ())
