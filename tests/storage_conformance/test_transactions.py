"""Units of work: commit on success, roll back on an exception, one at a time, and a failed
operation never takes another's writes with it."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import pytest

from services.forget import forget_person
from services.polls.closing import close_chat_polls, close_poll
from services.privacy import Keyring, respondent_pseudonym
from services.survey.waves import WaveError, open_wave, submit_response
from storage import ChatRecord, Storage

DAY = dt.date(2026, 11, 23)
NOW = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
STAYING = {"status": "staying", "role": "qa", "seniority": "junior"}
KEYRING = Keyring(b"k" * 32)


class Boom(Exception):
    pass


async def test_a_transaction_commits_on_success_and_rolls_back_on_an_exception(
    storage: Storage,
) -> None:
    async with storage.transaction() as tx:
        await tx.meta.set("kept", "1")

    async def fail_part_way() -> None:
        async with storage.transaction() as tx:
            await tx.meta.set("lost", "1")
            await tx.meta.set("kept", "2")
            raise Boom

    with pytest.raises(Boom):
        await fail_part_way()
    assert await storage.meta.get("kept") == "1"
    assert await storage.meta.get("lost") is None


async def test_reads_outside_see_only_committed_data_and_are_not_held_up(
    storage: Storage,
) -> None:
    async with storage.transaction() as tx:
        await tx.meta.set("name", "pending")
        assert await tx.meta.get("name") == "pending"
        # A hang here would mean readers wait for the writer.
        assert await asyncio.wait_for(storage.meta.get("name"), timeout=10) is None
    assert await storage.meta.get("name") == "pending"


async def test_a_cancelled_transaction_is_rolled_back_and_frees_the_writer(
    storage: Storage,
) -> None:
    inside = asyncio.Event()

    async def cancelled_part_way() -> None:
        async with storage.transaction() as tx:
            await tx.meta.set("lost", "1")
            inside.set()
            await asyncio.Event().wait()  # until cancelled

    task = asyncio.create_task(cancelled_part_way())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with storage.transaction() as tx:
        await tx.meta.set("next", "1")
    assert await storage.meta.get("lost") is None
    assert await storage.meta.get("next") == "1"


async def test_transactions_do_not_nest(storage: Storage) -> None:
    async with storage.transaction():
        with pytest.raises(RuntimeError, match="nest"):
            async with storage.transaction():
                pass
    async with storage.transaction() as tx:  # and the storage is still usable
        await tx.meta.set("after", "1")
    assert await storage.meta.get("after") == "1"


async def test_transactions_run_one_at_a_time(storage: Storage) -> None:
    async def increment() -> None:
        async with storage.transaction() as tx:
            value = int(await tx.meta.get("counter") or 0)
            await asyncio.sleep(0)  # let the others try to interleave
            await tx.meta.set("counter", str(value + 1))

    await asyncio.gather(*(increment() for _ in range(30)))
    assert await storage.meta.get("counter") == "30"


async def test_a_refused_wave_open_loses_no_concurrent_response(storage: Storage) -> None:
    """The reproduced data loss: 50 saves, each beside a refused `/wave open`, kept 0 of 50."""
    wave = await open_wave(storage, KEYRING, "autumn", DAY)

    async def refused_open() -> None:
        with pytest.raises(WaveError, match="already_open"):
            await open_wave(storage, KEYRING, "another", DAY)

    await asyncio.gather(
        *(
            task
            for user_id in range(1, 51)
            for task in (
                submit_response(storage, KEYRING, wave, user_id, STAYING, DAY, 10),
                refused_open(),
            )
        )
    )
    assert await storage.survey.response_groups(wave.id) != []
    assert sum(count for _, count in await storage.survey.response_groups(wave.id)) == 50
    assert await storage.survey.changed_respondents(wave.id) == 0
    snapshot = await storage.survey.snapshot(wave.id)
    assert snapshot is not None
    # Published once the changes are counted, whatever the interleaving: all 50 are in it.
    assert '"respondents":50' in snapshot.figures


async def test_a_failure_part_way_through_forget_deletes_nothing(storage: Storage) -> None:
    user_id = 4242
    wave = await open_wave(storage, KEYRING, "autumn", DAY)
    await submit_response(storage, KEYRING, wave, user_id, STAYING, DAY, 10)
    poll_key = KEYRING.poll_key_sealer.seal(b"p" * 32)
    async with storage.transaction() as tx:
        await tx.polls.save_chat(ChatRecord(b"chat", b"sealed", "group", active=True))
        poll = await tx.polls.create_poll(
            b"chat", "census", "Q?", ("a", "b"), False, DAY, None, poll_key, "en"
        )
        voter = respondent_pseudonym(b"p" * 32, user_id)
        await tx.polls.vote(poll.id, voter, (1,))
        await tx.subscriptions.subscribe(KEYRING.subscriber(user_id), b"chat", 0)
        await tx.preferences.set_locale(KEYRING.user_pseudonym(user_id), "be")
        await tx.knowledge_stats.vote(KEYRING.feedback_voter(user_id, "visa"), "visa", True)
        await tx.fsm.save("fsm-key", b"state")

    def fsm_keys_then_failure() -> Iterator[str]:
        yield "fsm-key"
        raise Boom  # after the response, subscription, preferences and votes were deleted

    with pytest.raises(Boom):
        await forget_person(storage, KEYRING, user_id, fsm_keys_then_failure())
    assert sum(count for _, count in await storage.survey.response_groups(wave.id)) == 1
    assert await storage.subscriptions.is_subscribed(KEYRING.subscriber(user_id))
    assert await storage.preferences.get_locale(KEYRING.user_pseudonym(user_id)) == "be"
    assert (await storage.knowledge_stats.article_stats())[0].helpful == 1
    assert await storage.fsm.load("fsm-key") == b"state"
    assert await storage.polls.get_vote(poll.id, voter) == (1,)

    forgotten = await forget_person(storage, KEYRING, user_id, ["fsm-key"])
    assert (forgotten.responses, forgotten.subscription, forgotten.on_disk) == (1, True, True)
    assert await storage.survey.response_groups(wave.id) == []
    assert not await storage.subscriptions.is_subscribed(KEYRING.subscriber(user_id))
    assert await storage.preferences.get_locale(KEYRING.user_pseudonym(user_id)) is None
    assert await storage.knowledge_stats.article_stats() == []
    assert await storage.fsm.load("fsm-key") is None
    assert await storage.polls.get_vote(poll.id, voter) == ()


async def test_closing_a_poll_tallies_its_census_votes_and_deletes_them(
    storage: Storage,
) -> None:
    async with storage.transaction() as tx:
        await tx.polls.save_chat(ChatRecord(b"chat", b"sealed", "group", active=True))
        poll = await tx.polls.create_poll(
            b"chat", "census", "Q?", ("a", "b"), False, DAY, None, b"key", "en"
        )
        for voter, option in ((b"v1", 0), (b"v2", 1), (b"v3", 1)):
            await tx.polls.vote(poll.id, voter, (option,))
    outcome = await close_poll(storage, poll.id, NOW, "admin")
    assert outcome is not None
    closed, chat = outcome
    assert (closed.tallies, closed.is_open, closed.voter_key_sealed) == ((1, 2), False, None)
    assert chat is not None
    assert chat.chat_key == b"chat"
    assert await storage.polls.census_tallies(poll.id, 2) == (0, 0)
    assert await close_poll(storage, poll.id, NOW, "admin") is None  # closed once only


async def test_the_bot_leaving_a_chat_closes_that_chats_polls_only(storage: Storage) -> None:
    async with storage.transaction() as tx:
        for chat_key in (b"left", b"stays"):
            await tx.polls.save_chat(ChatRecord(chat_key, b"sealed", "group", active=True))
        left = await tx.polls.create_poll(
            b"left", "census", "Q?", ("a", "b"), False, DAY, None, b"key", "en"
        )
        await tx.polls.vote(left.id, b"v1", (1,))
        stays = await tx.polls.create_poll(
            b"stays", "native", "Q?", ("a", "b"), False, DAY, None, None, "en"
        )
    removed = ChatRecord(b"left", b"sealed", "group", active=False)
    (closed,) = await close_chat_polls(storage, removed, NOW)
    assert (closed.id, closed.tallies) == (left.id, (0, 1))
    assert await storage.polls.get_chat(b"left") == removed
    assert [poll.id for poll in await storage.polls.open_polls()] == [stays.id]
    assert await storage.polls.census_tallies(left.id, 2) == (0, 0)


async def test_closing_queues_results_for_every_chat_the_bot_is_still_in(storage: Storage) -> None:
    async with storage.transaction() as tx:
        for key in (b"home", b"away", b"left"):
            await tx.polls.save_chat(ChatRecord(key, b"sealed", "group", active=key != b"left"))
        poll = await tx.polls.create_poll(
            b"home", "census", "Q?", ("a", "b"), False, DAY, None, b"key", "en"
        )
        await tx.polls.attach_message(poll.id, 7, None)
        await tx.polls.add_copy(poll.id, b"away", 3)
        await tx.polls.add_copy(poll.id, b"left", 4)
    assert await close_poll(storage, poll.id, NOW, "admin") is not None
    due = await storage.polls.results_due(poll.id)
    assert sorted((d.chat_key, d.message_id, d.stage) for d in due) == [
        (b"away", 3, "close"),
        (b"home", 7, "close"),
    ]
    assert await close_poll(storage, poll.id, NOW, "admin") is None
    assert len(await storage.polls.results_due(poll.id)) == 2
