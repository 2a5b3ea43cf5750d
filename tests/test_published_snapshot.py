"""Published survey figures come from a snapshot that one person's action cannot move: the
attacker asks /stats, /stats full, the CSV and the digest before and after one known person
acts, and nothing differs; only k distinct changed respondents move the snapshot."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import sqlite3
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.sandbox.driver import TelegramUser
from bot.sandbox.runtime import Sandbox
from services.digest import Snapshot, build_digest
from services.forget import forget_person
from services.privacy import Keyring
from services.survey.aggregates import aggregate_wave
from services.survey.questions import Answers
from services.survey.snapshot import aggregates_from_json, aggregates_to_json
from services.survey.waves import (
    close_wave,
    encode_answers,
    open_wave,
    publish_due_snapshots,
    published_aggregates,
    submit_response,
    wave_aggregates,
)
from storage import Storage, Wave, open_storage
from storage.migrations import migrate
from tests.test_digest import NEW_YEAR, digests, start
from tests.test_survey_aggregates import responses

K = 5
DAY = dt.date(2026, 11, 23)
KEYRING = Keyring(b"k" * 32)
ROLES = ("qa", "devops", "backend")


async def answer(user: TelegramUser, status: str = "Staying in Belarus") -> None:
    await user.send("/survey")
    await user.click("I agree")
    await user.click(status)
    if status.startswith("Left"):
        await user.click("Poland")
        for _step in range(5):
            await user.click(1)
    else:
        await user.click("QA")
        await user.click("Junior")
    await user.click("Submit")
    assert "Thank you" in user.last_text


async def published(sandbox: Sandbox, admin: TelegramUser, member: TelegramUser) -> list[Any]:
    """Everything an attacker can read: /stats, /stats full with its CSV, the digest, and
    the admins' list of waves."""
    stats = [m.get("text") for m in await member.send("/stats")]
    full = await admin.send("/stats full")
    texts = [m.get("text") for m in full if "text" in m]
    csv = [sandbox.api.files[m["document"]["file_id"]] for m in full if "document" in m]
    digest = (await digests(sandbox).compose(NEW_YEAR)).digest
    figures = [(f.category, f.count, f.share) for f in (*digest.status, *digest.countries)]
    waves = [m.get("text") for m in await admin.send("/wave")]
    return [stats, texts, csv, (digest.respondents, figures), waves]


def posted_figures(sandbox: Sandbox) -> list[tuple[Any, ...]]:
    """The figures of every digest posted, from the record each one keeps."""
    with contextlib.closing(sqlite3.connect(sandbox.database_path)) as db:
        rows = db.execute("SELECT snapshot FROM digests ORDER BY claimed_at").fetchall()
    shown = [json.loads(row[0]) for row in rows]
    return [(s["respondents"], s["status"], s["countries"]) for s in shown]


async def a_new_person_answers(sandbox: Sandbox, people: list[TelegramUser]) -> None:
    await answer(sandbox.user("Newcomer", language_code="en"), "Left after 24 Feb 2022")


async def one_respondent_changes_their_answers(
    sandbox: Sandbox, people: list[TelegramUser]
) -> None:
    await answer(people[0], "Left after 24 Feb 2022")


async def one_respondent_resubmits_the_same_answers_four_times(
    sandbox: Sandbox, people: list[TelegramUser]
) -> None:
    for _ in range(4):
        await answer(people[0])


async def one_respondent_forgets(sandbox: Sandbox, people: list[TelegramUser]) -> None:
    await people[0].send("/forget")
    await people[0].click("Yes, delete everything")


Action = Callable[[Sandbox, list[TelegramUser]], Awaitable[None]]


async def attack(sandbox: Sandbox, action: Action) -> None:
    """Figures published for 5 people; one known person acts; no channel shows a difference."""
    admin, channel = await start(sandbox)
    member = sandbox.user("Attacker", language_code="en")
    await admin.send("/wave open 2026 Q4")
    people = [sandbox.user(f"P{i}", language_code="en") for i in range(K)]
    for person in people:
        await answer(person)
    assert await digests(sandbox).post_now(NEW_YEAR)
    before = await published(sandbox, admin, member)
    assert "Answers: 5" in before[0][0]
    assert "; 5" in before[4][0]

    await action(sandbox, people)

    after = await published(sandbox, admin, member)
    names = ("/stats", "/stats full", "CSV", "digest", "/wave")
    for name, was, now in zip(names, before, after, strict=True):
        assert now == was, f"{name} moved"
    assert await digests(sandbox).post_now(NEW_YEAR + dt.timedelta(days=7))
    first, second = posted_figures(sandbox)
    assert second == first
    posts = [m for (chat, _), m in sorted(sandbox.api.messages.items()) if chat == channel.id]
    assert not any("since the last digest)" in p.get("caption", p.get("text", "")) for p in posts)


async def test_a_new_answer_moves_no_published_figure(sandbox: Sandbox) -> None:
    await attack(sandbox, a_new_person_answers)


async def test_a_changed_answer_moves_no_published_figure(sandbox: Sandbox) -> None:
    await attack(sandbox, one_respondent_changes_their_answers)


async def test_identical_resubmits_move_no_published_figure(sandbox: Sandbox) -> None:
    await attack(sandbox, one_respondent_resubmits_the_same_answers_four_times)


async def test_a_forget_moves_no_published_figure(sandbox: Sandbox) -> None:
    await attack(sandbox, one_respondent_forgets)


async def test_k_minus_one_changed_respondents_move_nothing_and_k_do(sandbox: Sandbox) -> None:
    admin, _channel = await start(sandbox)
    member = sandbox.user("Attacker", language_code="en")
    await admin.send("/wave open 2026 Q4")
    for index in range(K):
        await answer(sandbox.user(f"P{index}", language_code="en"))
    await member.send("/stats")
    first = member.last_text
    newcomers = [sandbox.user(f"N{index}", language_code="en") for index in range(K)]
    for person in newcomers[:-1]:
        await answer(person, "Left after 24 Feb 2022")
    await answer(newcomers[0], "Left before 24 Feb 2022")  # the same person again: still 4
    await member.send("/stats")
    assert member.last_text == first
    await answer(newcomers[-1], "Left after 24 Feb 2022")
    await member.send("/stats")
    assert "Answers: 10" in member.last_text


# ---- the rule itself, on the storage -----------------------------------------------------


def staying(role: str) -> Answers:
    return {"status": "staying", "role": role, "seniority": "junior"}


async def scratch_storage(folder: str) -> Storage:
    return await open_storage(f"sqlite:///{Path(folder) / 'vyraj.db'}")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(1, 8), st.sampled_from((*ROLES, "forget"))), min_size=1, max_size=40
    )
)
def test_figures_move_only_after_k_distinct_respondents_changed(
    steps: list[tuple[int, str]],
) -> None:
    """For any sequence of submits and forgets, the snapshot moves exactly when k distinct
    respondents have answered or changed their answers since it last moved."""
    asyncio.run(_play(steps))


async def _play(steps: list[tuple[int, str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        storage = await scratch_storage(folder)
        try:
            wave = await open_wave(storage, KEYRING, "autumn", DAY)
            stored: dict[int, str] = {}
            changed: set[int] = set()
            shown = await published_aggregates(storage, wave.id, K)
            for user, role in steps:
                if role == "forget":
                    await forget_person(storage, KEYRING, user, [])
                    stored.pop(user, None)
                    changed.discard(user)  # their mark went with their row
                else:
                    await submit_response(storage, KEYRING, wave, user, staying(role), DAY, K)
                    if stored.get(user) != role:
                        changed.add(user)
                    stored[user] = role
                now = await published_aggregates(storage, wave.id, K)
                if len(changed) >= K:
                    assert now == await wave_aggregates(storage.survey, wave.id, K)
                    changed.clear()
                else:
                    assert now == shown
                shown = now
        finally:
            await storage.close()


@given(st.lists(responses(), max_size=40), st.integers(5, 12))
def test_a_snapshot_keeps_every_figure_exactly(wave: list[tuple[Answers, int]], k: int) -> None:
    aggregates = aggregate_wave(wave, k)
    assert aggregates_from_json(aggregates_to_json(aggregates)) == aggregates


async def test_closing_keeps_the_last_snapshot_below_k_changes(tmp_path: Path) -> None:
    storage = await scratch_storage(str(tmp_path))
    try:
        wave = await open_wave(storage, KEYRING, "autumn", DAY)
        for user in range(1, 2 * K):  # k, then k - 1 more
            await submit_response(storage, KEYRING, wave, user, staying("qa"), DAY, K)
        assert await storage.survey.changed_respondents(wave.id) == K - 1
        assert await close_wave(storage, DAY) is not None
        assert (await published_aggregates(storage, wave.id, K)).respondents == K
        assert await storage.survey.changed_respondents(wave.id) == 0
    finally:
        await storage.close()


async def test_waves_stored_before_snapshots_get_them_on_start(tmp_path: Path) -> None:
    path = tmp_path / "vyraj.db"
    async with aiosqlite.connect(path) as db:
        await migrate(db, target=5)
        await db.execute(
            "INSERT INTO survey_waves (label, opened_on, closed_on) "
            "VALUES ('old', '2026-01-05', '2026-02-01')"
        )
        await db.executemany(
            "INSERT INTO survey_responses VALUES (1, ?, '2026-W02', ?)",
            [(bytes([index]), encode_answers(staying("qa"))) for index in range(K)],
        )
        await db.commit()
    storage = await open_storage(f"sqlite:///{path}")
    try:
        assert await storage.survey.snapshot(1) is None
        await publish_due_snapshots(storage, K)
        figures = await published_aggregates(storage, 1, K)
        assert figures.respondents == K
    finally:
        await storage.close()


def test_an_unmoved_snapshot_makes_the_digest_repeat_itself() -> None:
    figures = aggregate_wave([(staying("qa"), K + 2)], K)
    common: dict[str, Any] = {
        "now": dt.datetime(2027, 1, 1, 10, tzinfo=dt.UTC), "k": K, "aggregates": figures,
        "baseline_date": None, "previous_wave": None, "previous_aggregates": None,
        "closed_polls": [], "views": {}, "unanswered": 0,
    }  # fmt: skip
    wave = Wave(1, "autumn", DAY, None, b"sealed")
    baseline = Snapshot(1, 3, K, {"staying": K}, {})
    same, _ = build_digest(wave=wave, survey_version=3, baseline=baseline, **common)
    moved, _ = build_digest(wave=wave, survey_version=4, baseline=baseline, **common)
    assert not same.fresh
    assert same.respondents == K
    assert moved.fresh
    assert moved.new_respondents == 2
