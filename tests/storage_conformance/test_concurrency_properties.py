"""Random batches of concurrent operations against a storage keep its invariants: every
submitted answer is stored exactly once, the changed respondents are counted once each and
published at k, a forget leaves nothing linkable, and a closed poll has no votes left."""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from services.forget import forget_person
from services.polls.closing import close_poll
from services.polls.voting import record_census_vote
from services.privacy import Keyring, respondent_pseudonym
from services.survey.waves import WaveError, encode_answers, open_wave, submit_response
from storage import ChatRecord, Storage, Wave
from tests.storage_conformance.backends import OpenStorage

DAY = dt.date(2026, 11, 23)
NOW = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
KEYRING = Keyring(b"k" * 32)
USERS = range(1, 7)
K = 5
ROLES = ("qa", "devops")
ARTICLES = ("visa", "tax")
CHAT = b"chat"
T = TypeVar("T")

# One operation of a batch: (kind, user, argument); the kinds are the methods of Machine.
OPERATIONS = st.one_of(
    st.tuples(st.just("submit"), st.sampled_from(USERS), st.sampled_from(ROLES)),
    st.tuples(st.just("forget"), st.sampled_from(USERS), st.just("")),
    st.tuples(st.just("settle"), st.sampled_from(USERS), st.sampled_from(ARTICLES)),
    st.tuples(st.just("vote"), st.sampled_from(USERS), st.integers(0, 5)),
    st.tuples(st.just("close"), st.none(), st.integers(0, 5)),
    st.tuples(st.just("refused_open"), st.none(), st.just("")),
)


@dataclass
class Person:
    """What the model expects to be stored about one person."""

    answer: str | None = None
    settled: bool = False  # subscribed, with a saved language
    guide_votes: set[str] = field(default_factory=set)  # articles voted helpful
    votes: dict[int, int] = field(default_factory=dict)  # poll id -> option
    forgotten: bool = False


def answers(role: str) -> dict[str, str]:
    return {"status": "staying", "role": role, "seniority": "junior"}


class StorageMachine(RuleBasedStateMachine):
    open_backend: OpenStorage

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = tempfile.TemporaryDirectory()
        self.storage: Storage = self.run(self.open_backend(Path(self.folder.name)))
        self.wave: Wave = self.run(open_wave(self.storage, KEYRING, "autumn", DAY))
        self.run(self._save_chat())
        self.people = {user: Person() for user in USERS}
        # Respondents changed since the last snapshot; None when a batch published and kept
        # some changes pending: which ones depends on the commit order, only their count is known.
        self.changed: set[int] | None = set()
        self.pending = 0  # how many changes the storage holds unpublished
        self.snapshots = 0
        self.changed_in_batch: set[int] = set()
        self.forgotten_in_batch: set[int] = set()
        self.open_polls: list[int] = []
        self.closed_polls: dict[int, tuple[int, ...]] = {}

    def run(self, step: Awaitable[T]) -> T:
        return self.loop.run_until_complete(step)

    def teardown(self) -> None:
        try:
            self.run(self.storage.close())
        finally:
            self.loop.close()
            self.folder.cleanup()

    async def _save_chat(self) -> None:
        async with self.storage.transaction() as tx:
            await tx.polls.save_chat(ChatRecord(CHAT, b"sealed", "group", active=True))

    @rule()
    def open_census_poll(self) -> None:
        async def create() -> int:
            async with self.storage.transaction() as tx:
                poll = await tx.polls.create_poll(
                    CHAT, "census", "Q?", ("a", "b"), False, DAY, None,
                    KEYRING.poll_key_sealer.seal(b"p" * 32), "en",
                )  # fmt: skip
            return poll.id

        if len(self.open_polls) < 3:
            self.open_polls.append(self.run(create()))

    @rule(batch=st.lists(OPERATIONS, min_size=1, max_size=8))
    def run_concurrently(self, batch: list[tuple[str, int | None, object]]) -> None:
        # One operation per person per batch: their order within a batch is not defined.
        seen: set[int] = set()
        unique = []
        for kind, user, argument in batch:
            if user is None or user not in seen:
                unique.append((kind, user, argument))
                seen.add(user or 0)
        self.run(self._gather(unique))

    async def _gather(self, batch: list[tuple[str, int | None, object]]) -> None:
        await asyncio.gather(
            *(getattr(self, kind)(user, argument) for kind, user, argument in batch)
        )
        await self._settle_snapshots()

    async def _settle_snapshots(self) -> None:
        """Every submit publishes once k changes are pending, whatever the order of a batch's
        commits: fewer than k stay pending, and each new snapshot took k changes."""
        pending = await self.storage.survey.changed_respondents(self.wave.id)
        snapshot = await self.storage.survey.snapshot(self.wave.id)
        version = snapshot.version if snapshot else 0
        published = version - self.snapshots
        assert pending < K
        assert published >= 0
        assert published * K <= self.pending + len(self.changed_in_batch)
        if published == 0 and self.changed is not None:
            expected = (self.changed | self.changed_in_batch) - self.forgotten_in_batch
            assert pending == len(expected)
            self.changed = expected
        elif published == 0:
            assert pending <= self.pending + len(self.changed_in_batch)
        else:
            self.changed = set() if pending == 0 else None
        if self.changed is not None and len(self.changed) == pending == 0:
            self.changed = set()
        self.pending, self.snapshots = pending, version
        self.changed_in_batch.clear()
        self.forgotten_in_batch.clear()

    async def submit(self, user: int, role: str) -> None:
        await submit_response(self.storage, KEYRING, self.wave, user, answers(role), DAY, K)
        if self.people[user].answer != encode_answers(answers(role)):
            self.changed_in_batch.add(user)
        self.people[user].answer = encode_answers(answers(role))
        self.people[user].forgotten = False

    async def forget(self, user: int, _argument: object) -> None:
        person = self.people[user]
        closed_before = set(self.closed_polls)
        await forget_person(self.storage, KEYRING, user)
        # Forgetting is not counted as a change (see the snapshot rule); it ends any pending
        # one. A poll closed earlier keeps its tallies: those votes are no longer anyone's.
        self.forgotten_in_batch.add(user)
        kept = {poll: option for poll, option in person.votes.items() if poll in closed_before}
        self.people[user] = Person(votes=kept, forgotten=True)

    async def settle(self, user: int, article: str) -> None:
        async with self.storage.transaction() as tx:
            await tx.subscriptions.subscribe(KEYRING.subscriber(user), b"sealed", 0)
            await tx.preferences.set_locale(KEYRING.user_pseudonym(user), "be")
            await tx.knowledge_stats.vote(KEYRING.feedback_voter(user, article), article, True)
        self.people[user].settled = True
        self.people[user].guide_votes.add(article)
        self.people[user].forgotten = False

    async def vote(self, user: int, which: int) -> None:
        if not self.open_polls:
            return
        poll = await self.storage.polls.get_poll(self.open_polls[which % len(self.open_polls)])
        assert poll is not None
        option = which % 2
        choice = await record_census_vote(self.storage, KEYRING, poll, user, option)
        if choice is not None:
            self.people[user].votes[poll.id] = option
            self.people[user].forgotten = False

    async def close(self, _user: None, which: int) -> None:
        if not self.open_polls:
            return
        poll_id = self.open_polls.pop(which % len(self.open_polls))
        # Let votes already under way in this batch reach the storage first or be refused.
        await asyncio.sleep(0)
        outcome = await close_poll(self.storage, poll_id, NOW, "admin")
        assert outcome is not None
        self.closed_polls[poll_id] = outcome[0].tallies

    async def refused_open(self, _user: None, _argument: object) -> None:
        try:
            await open_wave(self.storage, KEYRING, "another", DAY)
        except WaveError:
            return
        raise AssertionError("a second wave opened")

    @invariant()
    def every_submitted_answer_is_stored_exactly_once(self) -> None:
        expected = Counter(p.answer for p in self.people.values() if p.answer is not None)
        stored = self.run(self.storage.survey.response_groups(self.wave.id))
        assert Counter(dict(stored)) == expected
        for user, person in self.people.items():
            respondent = respondent_pseudonym(self._wave_key(), user)
            stored_one = self.run(self.storage.survey.has_response(self.wave.id, respondent))
            assert stored_one == (person.answer is not None)

    @invariant()
    def changed_respondents_are_counted_once_and_published_at_k(self) -> None:
        pending = self.run(self.storage.survey.changed_respondents(self.wave.id))
        assert pending == (self.pending if self.changed is None else len(self.changed))
        snapshot = self.run(self.storage.survey.snapshot(self.wave.id))
        assert (snapshot.version if snapshot else 0) == self.snapshots

    @invariant()
    def a_forget_leaves_nothing_linkable(self) -> None:
        for user, person in self.people.items():
            if not person.forgotten:
                continue
            assert not self.run(self.storage.subscriptions.is_subscribed(KEYRING.subscriber(user)))
            pseudonym = KEYRING.user_pseudonym(user)
            assert self.run(self.storage.preferences.get_locale(pseudonym)) is None
            voter = respondent_pseudonym(b"p" * 32, user)
            for poll_id in self.open_polls:
                assert self.run(self.storage.polls.get_vote(poll_id, voter)) == ()
        stats = self.run(self.storage.knowledge_stats.article_stats())
        votes = sum(len(p.guide_votes) for p in self.people.values())
        assert sum(stat.helpful for stat in stats) == votes

    @invariant()
    def a_closed_poll_has_no_votes_left(self) -> None:
        for poll_id, tallies in self.closed_polls.items():
            assert self.run(self.storage.polls.census_tallies(poll_id, 2)) == (0, 0)
            counted = Counter(p.votes[poll_id] for p in self.people.values() if poll_id in p.votes)
            assert tallies == (counted[0], counted[1])
        for poll_id in self.open_polls:
            counted = Counter(p.votes[poll_id] for p in self.people.values() if poll_id in p.votes)
            assert self.run(self.storage.polls.census_tallies(poll_id, 2)) == (
                counted[0],
                counted[1],
            )

    def _wave_key(self) -> bytes:
        assert self.wave.key_sealed is not None
        return KEYRING.wave_key_sealer.open(self.wave.key_sealed)


def test_concurrent_operations_keep_the_storage_invariants(open_backend: OpenStorage) -> None:
    machine = type("Machine", (StorageMachine,), {"open_backend": staticmethod(open_backend)})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=30,
            stateful_step_count=12,
            deadline=None,
            database=None,
            # Explaining a failure replays it hundreds of times; the shrunk steps suffice.
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
