"""Every repository round-trips through a transaction and reads back on the storage."""

from __future__ import annotations

import datetime as dt
from dataclasses import astuple
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.fsm_storage import PseudonymousFsmStorage
from services.privacy import Keyring
from storage import NOTES_PER_ARTICLE, UNANSWERED_LIMIT, ChatRecord, Storage, WaveAlreadyOpenError
from tests.storage_conformance.backends import OpenStorage

DAY = dt.date(2026, 11, 23)


async def test_meta_round_trip(storage: Storage) -> None:
    assert await storage.meta.get("key_check") is None
    async with storage.transaction() as tx:
        await tx.meta.set("key_check", "a")
        await tx.meta.set("key_check", "b")
    assert await storage.meta.get("key_check") == "b"


async def test_preferences_round_trip_and_forget(storage: Storage) -> None:
    async with storage.transaction() as tx:
        await tx.preferences.set_locale("abc", "ru")
        await tx.preferences.set_locale("abc", "en")
    assert await storage.preferences.get_locale("abc") == "en"
    async with storage.transaction() as tx:
        await tx.preferences.forget("abc")
    assert await storage.preferences.get_locale("abc") is None


async def test_fsm_state_survives_reopening_and_is_sealed(
    open_backend: OpenStorage, tmp_path: Path
) -> None:
    keyring = Keyring(b"k" * 32)
    key = StorageKey(bot_id=1, chat_id=5_000_000_001, user_id=5_000_000_001)
    storage = await open_backend(tmp_path)
    try:
        fsm = PseudonymousFsmStorage(storage, keyring)
        await fsm.set_state(key, "Survey:status")
        await fsm.update_data(key, {"step": 3})
    finally:
        await storage.close()

    storage = await open_backend(tmp_path)
    try:
        fsm = PseudonymousFsmStorage(storage, keyring)
        assert await fsm.get_state(key) == "Survey:status"
        assert await fsm.get_data(key) == {"step": 3}
        assert await PseudonymousFsmStorage(storage, Keyring(b"z" * 32)).get_state(key) is None
        await fsm.set_state(key, None)
        await fsm.set_data(key, {})
        assert await storage.fsm.load(keyring.fsm_pseudonym(astuple(key))) is None
    finally:
        await storage.close()


async def test_closing_a_wave_can_delete_its_dialogues_without_opening_them(
    storage: Storage,
) -> None:
    async with storage.transaction() as tx:
        await tx.fsm.save("unfinished", b"sealed", wave_id=1)
        await tx.fsm.save("next wave", b"sealed", wave_id=2)
        await tx.fsm.save("a poll wizard", b"sealed")
        await tx.fsm.save("finished", b"sealed", wave_id=1)
        await tx.fsm.save("finished", b"sealed again")  # moved on to another dialogue
    async with storage.transaction() as tx:
        assert await tx.fsm.delete_wave(1) == 1
    assert await storage.fsm.load("unfinished") is None
    assert await storage.fsm.load("next wave") == b"sealed"
    assert await storage.fsm.load("a poll wizard") == b"sealed"
    assert await storage.fsm.load("finished") == b"sealed again"


async def test_a_checkpoint_nothing_holds_up_completes(storage: Storage) -> None:
    async with storage.transaction() as tx:
        await tx.preferences.set_locale("abc", "ru")
        await tx.preferences.forget("abc")
    assert await storage.checkpoint_truncate()
    async with storage.transaction():
        with pytest.raises(RuntimeError, match="not inside it"):
            await storage.checkpoint_truncate()


async def test_guide_views_votes_and_unanswered_questions(storage: Storage) -> None:
    async with storage.transaction() as tx:
        await tx.knowledge_stats.record_view("visa")
        await tx.knowledge_stats.record_view("visa")
        assert await tx.knowledge_stats.vote("v1", "visa", helpful=True) is None
        assert await tx.knowledge_stats.vote("v2", "visa", helpful=False) is None
        # A changed mind: the vote it replaced comes back.
        assert await tx.knowledge_stats.vote("v2", "visa", helpful=True) is False
        assert await tx.knowledge_stats.vote("v2", "visa", helpful=True) is True
        await tx.knowledge_stats.record_unanswered("tax pit")
        await tx.knowledge_stats.record_unanswered("tax pit")
        assert await tx.knowledge_stats.voted_articles() == ["visa"]
    (stats,) = await storage.knowledge_stats.article_stats()
    assert (stats.article_id, stats.views, stats.helpful, stats.unhelpful) == ("visa", 2, 2, 0)
    (question,) = await storage.knowledge_stats.top_unanswered(5)
    assert (question.terms, question.times) == ("tax pit", 2)
    async with storage.transaction() as tx:
        await tx.knowledge_stats.forget_votes(["v1", "v2"])
    (stats,) = await storage.knowledge_stats.article_stats()
    assert (stats.helpful, stats.unhelpful) == (0, 0)


async def test_readers_notes_per_article_newest_first_and_cleared(storage: Storage) -> None:
    async with storage.transaction() as tx:
        await tx.knowledge_stats.add_note("visa", "fee changed", "2026-10")
        await tx.knowledge_stats.add_note("visa", "link moved", "2026-11")
        await tx.knowledge_stats.add_note("tax", "new rate", "2026-11")
    assert await storage.knowledge_stats.note_counts() == [("visa", 2), ("tax", 1)]
    notes = await storage.knowledge_stats.notes("visa", 5)
    assert [(n.note, n.noted_in) for n in notes] == [
        ("link moved", "2026-11"),
        ("fee changed", "2026-10"),
    ]
    assert len(await storage.knowledge_stats.notes("visa", 1)) == 1
    async with storage.transaction() as tx:
        assert await tx.knowledge_stats.clear_notes("visa") == 2
        assert await tx.knowledge_stats.clear_notes("visa") == 0
    assert await storage.knowledge_stats.note_counts() == [("tax", 1)]


async def test_an_articles_notes_are_capped_and_the_oldest_go(storage: Storage) -> None:
    async with storage.transaction() as tx:
        for number in range(NOTES_PER_ARTICLE + 3):
            await tx.knowledge_stats.add_note("visa", f"note {number}", "2026-11")
        await tx.knowledge_stats.add_note("tax", "new rate", "2026-11")
    assert await storage.knowledge_stats.note_counts() == [("visa", NOTES_PER_ARTICLE), ("tax", 1)]
    kept = [n.note for n in await storage.knowledge_stats.notes("visa", 10_000)]
    assert kept[0] == f"note {NOTES_PER_ARTICLE + 2}"
    assert kept[-1] == "note 3"  # the three oldest made room


async def test_one_open_wave_responses_and_distinct_changes(storage: Storage) -> None:
    async with storage.transaction() as tx:
        wave = await tx.survey.open_wave("spring", b"sealed", DAY)
    with pytest.raises(WaveAlreadyOpenError):
        async with storage.transaction() as tx:
            await tx.survey.open_wave("again", b"sealed", DAY)
    async with storage.transaction() as tx:
        await tx.survey.save_response(wave.id, b"r1", "2026-W48", "a")
        await tx.survey.save_response(wave.id, b"r1", "2026-W48", "b")
        await tx.survey.save_response(wave.id, b"r2", "2026-W48", "b")
        assert await tx.survey.delete_response(wave.id, b"r2")
        assert not await tx.survey.delete_response(wave.id, b"nobody")
    assert await storage.survey.response_groups(wave.id) == [("b", 1)]
    assert await storage.survey.changed_respondents(wave.id) == 1  # r1 twice counts once
    assert await storage.survey.has_response(wave.id, b"r1")
    assert await storage.survey.snapshot(wave.id) is None
    counted = await storage.survey.answer_counts(wave.id)
    assert (counted.groups, counted.revision) == ([("b", 1)], 4)  # every change, not repeats
    async with storage.transaction() as tx:
        await tx.survey.clear_changed(wave.id)
        first = await tx.survey.publish_snapshot(wave.id, "{1}", counted.revision)
        await tx.survey.save_response(wave.id, b"r1", "2026-W49", "b")  # the same answers
    assert await storage.survey.changed_respondents(wave.id) == 0
    assert (await storage.survey.answer_counts(wave.id)).revision == counted.revision
    async with storage.transaction() as tx:
        await tx.survey.save_response(wave.id, b"r1", "2026-W49", "c")
        second = await tx.survey.publish_snapshot(wave.id, "{2}", counted.revision + 1)
        await tx.survey.save_response(wave.id, b"r3", "2026-W49", "c")
        stale = await tx.survey.publish_snapshot(wave.id, "{old}", counted.revision)
    assert stale is None  # figures computed before the stored ones never replace them
    assert await storage.survey.changed_respondents(wave.id) == 2  # publishing clears none
    assert first is not None
    assert second is not None
    assert (first.version, second.version) == (1, 2)
    assert await storage.survey.snapshot(wave.id) == second
    async with storage.transaction() as tx:
        await tx.survey.close_wave(wave.id, DAY)
    assert await storage.survey.changed_respondents(wave.id) == 0
    assert await storage.survey.current_wave() is None
    ((closed, responses),) = await storage.survey.waves()
    assert (closed.closed_on, closed.key_sealed, responses) == (DAY, None, 2)
    assert await storage.survey.recent_waves(1) == [closed]


async def test_subscriptions(storage: Storage) -> None:
    async with storage.transaction() as tx:
        await tx.subscriptions.subscribe(b"s1", b"chat1", 0)
        await tx.subscriptions.subscribe(b"s2", b"chat2", 3)
    assert await storage.subscriptions.count() == 2
    assert [s.subscriber for s in await storage.subscriptions.pending(3, 10)] == [b"s1"]
    async with storage.transaction() as tx:
        assert await tx.subscriptions.mark_notified(b"s1", 3)
        await tx.subscriptions.unmark_notified(b"s1", 3)
    assert [s.subscriber for s in await storage.subscriptions.pending(3, 10)] == [b"s1"]
    async with storage.transaction() as tx:
        assert await tx.subscriptions.mark_notified(b"s1", 3)
        assert not await tx.subscriptions.mark_notified(b"s1", 3)  # told already: by another
        assert not await tx.subscriptions.mark_notified(b"s2", 2)  # told of a later wave
        assert await tx.subscriptions.unsubscribe(b"s2")
        assert not await tx.subscriptions.unsubscribe(b"s2")
    assert await storage.subscriptions.pending(3, 10) == []
    assert not await storage.subscriptions.is_subscribed(b"s2")


async def test_a_claim_has_one_holder_until_it_lapses_or_is_given_up(storage: Storage) -> None:
    now = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
    minute = dt.timedelta(minutes=1)
    async with storage.transaction() as tx:
        assert await tx.claims.claim("poll-close:1", "a", now, now + minute)
        assert not await tx.claims.claim("poll-close:1", "b", now + minute / 2, now + 2 * minute)
        assert await tx.claims.claim("poll-close:1", "a", now, now + 2 * minute)  # renewed
        assert not await tx.claims.claim("poll-close:1", "b", now + minute, now + 3 * minute)
        assert await tx.claims.claim("poll-close:2", "b", now, now + minute)  # another name
    async with storage.transaction() as tx:
        # Lapsed: the holder died; someone else takes it over, and the first lost it.
        assert await tx.claims.claim("poll-close:1", "b", now + 2 * minute, now + 3 * minute)
        assert not await tx.claims.claim("poll-close:1", "a", now + 2 * minute, now + 3 * minute)
        await tx.claims.release("poll-close:1", "a")  # not a's to give up: nothing changes
        assert not await tx.claims.claim("poll-close:1", "a", now + 2 * minute, now + 3 * minute)
        await tx.claims.release("poll-close:1", "b")
        assert await tx.claims.claim("poll-close:1", "a", now + 2 * minute, now + 3 * minute)
        assert await tx.claims.release_all("b") == 1
        assert await tx.claims.claim("poll-close:2", "a", now, now + minute)


async def test_a_census_poll_counts_votes_until_it_closes(storage: Storage) -> None:
    chat = ChatRecord(b"chat", b"sealed", "supergroup", active=True)
    async with storage.transaction() as tx:
        await tx.polls.save_chat(chat)
        poll = await tx.polls.create_poll(
            b"chat", "census", "Q?", ("a", "b"), False, DAY, None, b"key", "en"
        )
        await tx.polls.attach_message(poll.id, 7, None)
        assert await tx.polls.vote(poll.id, b"v1", (0,))
        assert await tx.polls.vote(poll.id, b"v2", (1,))
        assert await tx.polls.vote(poll.id, b"v2", ())  # withdrawn
    assert await storage.polls.get_chat(b"chat") == chat
    assert await storage.polls.poll_by_message(b"chat", 7) is not None
    assert await storage.polls.census_tallies(poll.id, 2) == (1, 0)
    assert await storage.polls.get_vote(poll.id, b"v1") == (0,)
    async with storage.transaction() as tx:
        assert await tx.polls.close_poll(poll.id, DAY, (1, 0))
        assert not await tx.polls.close_poll(poll.id, DAY, (1, 0))
        assert not await tx.polls.vote(poll.id, b"v3", (1,))  # closed: refused
    closed = await storage.polls.get_poll(poll.id)
    assert closed is not None
    assert (closed.tallies, closed.voter_key_sealed, closed.is_open) == ((1, 0), None, False)
    assert await storage.polls.get_vote(poll.id, b"v1") == ()
    assert await storage.polls.polls_closed_between(DAY, DAY + dt.timedelta(days=1)) == [closed]


async def test_only_an_unposted_poll_can_be_deleted(storage: Storage) -> None:
    async with storage.transaction() as tx:
        await tx.polls.save_chat(ChatRecord(b"chat", b"sealed", "supergroup", active=True))
        posted, refused = [
            await tx.polls.create_poll(
                b"chat", "native", q, ("a", "b"), False, DAY, None, None, "en"
            )
            for q in ("Posted?", "Refused?")
        ]
        await tx.polls.attach_message(posted.id, 7, "tg1")
        await tx.polls.delete_unposted(posted.id)
        await tx.polls.delete_unposted(refused.id)
    assert await storage.polls.get_poll(refused.id) is None
    assert await storage.polls.chat_polls(b"chat", 10) == [await storage.polls.get_poll(posted.id)]


async def test_a_digest_period_is_claimed_once(storage: Storage) -> None:
    at = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)
    async with storage.transaction() as tx:
        assert await tx.digests.claim("2026-W48", "scheduled", at, "{}")
        assert not await tx.digests.claim("2026-W48", "scheduled", at, "{}")
        await tx.digests.mark_posted("2026-W48", (1, 2))
    last = await storage.digests.last_posted()
    assert last is not None
    assert (last.status, last.message_ids) == ("posted", (1, 2))


async def test_census_votes_are_unshown_until_marked_shown(storage: Storage) -> None:
    async with storage.transaction() as tx:
        await tx.polls.save_chat(ChatRecord(b"chat", b"sealed", "supergroup", active=True))
        poll = await tx.polls.create_poll(
            b"chat", "census", "Q?", ("a", "b"), False, DAY, None, b"key", "en", hidden_counts=True
        )
        assert await tx.polls.vote(poll.id, b"v1", (0,))
        assert await tx.polls.vote(poll.id, b"v2", (1,))
    assert await storage.polls.unshown_voters(poll.id) == 2
    async with storage.transaction() as tx:
        await tx.polls.mark_votes_shown(poll.id)
    assert await storage.polls.unshown_voters(poll.id) == 0
    async with storage.transaction() as tx:
        assert await tx.polls.vote(poll.id, b"v1", (1,))  # a changed vote is unshown again
        assert await tx.polls.vote(poll.id, b"v2", ())  # a withdrawn one leaves nothing
    assert await storage.polls.unshown_voters(poll.id) == 1
    stored = await storage.polls.get_poll(poll.id)
    assert stored is not None
    assert stored.hidden_counts


async def test_a_pooled_poll_and_its_results_outbox_round_trip(storage: Storage) -> None:
    async with storage.transaction() as tx:
        for key in (b"home", b"away", b"left"):
            await tx.polls.save_chat(ChatRecord(key, b"sealed", "group", active=key != b"left"))
        poll = await tx.polls.create_poll(
            b"home", "census", "Q?", ("a", "b"), False, DAY, None, b"key", "en"
        )
        await tx.polls.attach_message(poll.id, 7, None)
        await tx.polls.add_copy(poll.id, b"away", 3)
        await tx.polls.add_copy(poll.id, b"left", 4)
    assert [astuple(copy) for copy in await storage.polls.copies(poll.id)] == [
        (b"home", 7),
        (b"away", 3),
        (b"left", 4),
    ]
    found = await storage.polls.poll_by_message(b"away", 3)
    assert found is not None
    assert found.id == poll.id
    assert await storage.polls.poll_by_message(b"away", 7) is None
    assert [p.id for p in await storage.polls.chat_polls(b"away", 10)] == [poll.id]
    async with storage.transaction() as tx:  # posted again there: the new message replaces
        await tx.polls.add_copy(poll.id, b"away", 9)
    assert (b"away", 9) in [astuple(copy) for copy in await storage.polls.copies(poll.id)]
    assert await storage.polls.poll_by_message(b"away", 3) is None
    async with storage.transaction() as tx:
        await tx.polls.add_copy(poll.id, b"away", 3)
    async with storage.transaction() as tx:
        for key, message_id in ((b"home", 7), (b"away", 3), (b"home", 7)):  # queued once
            await tx.polls.queue_results(poll.id, key, message_id)
        await tx.polls.advance_results(poll.id, b"home", "results")
    assert [astuple(due) for due in await storage.polls.results_due()] == [
        (poll.id, b"away", 3, "close"),
        (poll.id, b"home", 7, "results"),
    ]
    async with storage.transaction() as tx:
        await tx.polls.advance_results(poll.id, b"home", "posted", 12)
        await tx.polls.advance_results(poll.id, b"away", "refused")
    assert await storage.polls.results_due(poll.id) == []


async def test_unanswered_questions_are_capped_and_the_least_asked_go(storage: Storage) -> None:
    async with storage.transaction() as tx:
        await tx.knowledge_stats.record_unanswered("asked twice")
        await tx.knowledge_stats.record_unanswered("asked twice")
        for number in range(UNANSWERED_LIMIT - 1):
            await tx.knowledge_stats.record_unanswered(f"once {number:04d}")
    assert await storage.knowledge_stats.count_unanswered() == UNANSWERED_LIMIT
    async with storage.transaction() as tx:
        await tx.knowledge_stats.record_unanswered("newest")
        await tx.knowledge_stats.record_unanswered("asked twice")  # no new row: nothing goes
    assert await storage.knowledge_stats.count_unanswered() == UNANSWERED_LIMIT
    kept = {q.terms: q.times for q in await storage.knowledge_stats.top_unanswered(10_000)}
    assert kept["asked twice"] == 3
    assert kept["newest"] == 1  # a new question always gets in
    assert "once 0000" not in kept  # the least asked (then first by terms) made room
    assert "once 0001" in kept


async def test_unanswered_questions_counted_in_batches_are_capped_alike(storage: Storage) -> None:
    async with storage.transaction() as tx:
        await tx.knowledge_stats.record_unanswered("asked often", 3)
        for number in range(UNANSWERED_LIMIT - 1):
            await tx.knowledge_stats.record_unanswered(f"once {number:04d}")
    async with storage.transaction() as tx:
        await tx.knowledge_stats.record_unanswered("asked often", 2)  # no new row: nothing goes
    assert await storage.knowledge_stats.count_unanswered() == UNANSWERED_LIMIT
    async with storage.transaction() as tx:
        await tx.knowledge_stats.record_unanswered("newest", 4)
    kept = {q.terms: q.times for q in await storage.knowledge_stats.top_unanswered(10_000)}
    assert len(kept) == UNANSWERED_LIMIT
    assert (kept["asked often"], kept["newest"]) == (5, 4)
    assert "once 0000" not in kept
