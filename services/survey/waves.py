"""Survey waves: opening and closing them (closing destroys the wave's pseudonym key) and
submitting a response, each one transaction; and the wave's published snapshot, replaced in
those transactions once at least k distinct respondents changed since the last one."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
from dataclasses import dataclass
from typing import Protocol

from services.privacy import Keyring, respondent_pseudonym
from services.survey.aggregates import WaveAggregates, aggregate_wave
from services.survey.questions import BY_CODE, Answer, Answers, is_complete
from services.survey.snapshot import aggregates_from_json, aggregates_to_json, published_figures
from storage import Storage, SurveyReader, Wave, WaveAlreadyOpenError

MAX_LABEL = 40
# Where an unfinished survey's dialogue data names its wave; the FSM storage keeps it unsealed
# so that closing the wave deletes the unfinished surveys.
WAVE_DATA_KEY = "wave"


class WaveAnnouncer(Protocol):
    """Tells subscribers that a wave opened (in the background)."""

    def start(self, wave_id: int, label: str) -> None: ...


class WaveError(Exception):
    """An admin's wave command that cannot be carried out; the message says why."""


def iso_week(day: dt.date) -> str:
    """The coarse date kept with a response, e.g. 2026-W48."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def encode_answers(answers: Answers) -> str:
    """Canonical JSON of option codes (the same answers always give the same text)."""
    return json.dumps(
        {
            code: list(value) if isinstance(value, tuple) else value
            for code, value in answers.items()
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def decode_answers(text: str) -> dict[str, Answer]:
    raw = json.loads(text)
    return {
        code: tuple(value) if isinstance(value, list) else str(value)
        for code, value in raw.items()
        if code in BY_CODE
    }


async def open_wave(storage: Storage, keyring: Keyring, label: str, today: dt.date) -> Wave:
    label = " ".join(label.split())
    if not label or len(label) > MAX_LABEL:
        raise WaveError("label")
    key = os.urandom(32)
    try:
        async with storage.transaction() as tx:
            return await tx.survey.open_wave(label, keyring.wave_key_sealer.seal(key), today)
    except WaveAlreadyOpenError as exc:
        raise WaveError("already_open") from exc


@dataclass(frozen=True)
class ClosedWave:
    wave: Wave
    on_disk: bool  # False: the key is gone from the database, but the disk follows shortly


async def close_wave(storage: Storage, today: dt.date) -> ClosedWave | None:
    """Close the open wave, destroying its key and its unfinished surveys, down to the disk;
    None when no wave is open. Its last snapshot stays its figures: k changes publish at once,
    so fewer are pending here."""
    async with storage.transaction() as tx:
        wave = await tx.survey.current_wave()
        if wave is None:
            return None
        await tx.survey.close_wave(wave.id, today)
        await tx.fsm.delete_wave(wave.id)
    on_disk = await storage.checkpoint_truncate()
    return ClosedWave(Wave(wave.id, wave.label, wave.opened_on, today, None), on_disk)


def respondent(keyring: Keyring, wave: Wave, user_id: int) -> bytes:
    if wave.key_sealed is None:
        raise WaveError("closed")
    return respondent_pseudonym(keyring.wave_key_sealer.open(wave.key_sealed), user_id)


async def submit_response(
    storage: Storage,
    keyring: Keyring,
    wave: Wave,
    user_id: int,
    answers: Answers,
    today: dt.date,
    k: int,
) -> None:
    """Store (or replace) the person's response to the wave, publishing new figures if that
    makes k changed respondents; answers must be complete."""
    if not is_complete(answers):
        raise WaveError("incomplete")
    async with storage.transaction() as tx:
        await tx.survey.save_response(
            wave.id, respondent(keyring, wave, user_id), iso_week(today), encode_answers(answers)
        )
    await publish_if_due(storage, wave.id, k)


async def has_answered(storage: Storage, keyring: Keyring, wave: Wave, user_id: int) -> bool:
    return await storage.survey.has_response(wave.id, respondent(keyring, wave, user_id))


async def wave_aggregates(survey: SurveyReader, wave_id: int, k: int) -> WaveAggregates:
    """The wave's live figures, computed off the event loop; only ever published through a
    snapshot."""
    groups = await survey.response_groups(wave_id)
    return await asyncio.to_thread(_aggregate, groups, k)


def _aggregate(groups: list[tuple[str, int]], k: int) -> WaveAggregates:
    return aggregate_wave([(decode_answers(text), count) for text, count in groups], k)


async def publish_if_due(storage: Storage, wave_id: int, k: int) -> None:
    """Replace the wave's snapshot once at least k distinct respondents answered or changed
    their answers since the last one. The write lock is held only to read the counts (one row
    per distinct answer set) with their changed marks; computing the figures (off the event
    loop) and storing them come after."""
    if await storage.survey.changed_respondents(wave_id) < k:
        return
    async with storage.transaction() as tx:
        if await tx.survey.changed_respondents(wave_id) < k:
            return  # published meanwhile
        counts = await tx.survey.answer_counts(wave_id)
        await tx.survey.clear_changed(wave_id)
    aggregates = await asyncio.to_thread(_aggregate, counts.groups, k)
    async with storage.transaction() as tx:
        # Refused if figures of a later revision were stored meanwhile: never step back.
        await tx.survey.publish_snapshot(wave_id, aggregates_to_json(aggregates), counts.revision)


async def publish_due_snapshots(storage: Storage, k: int) -> None:
    """On start: publish what is due, e.g. the first snapshot of waves stored before snapshots."""
    for wave, _count in await storage.survey.waves():
        await publish_if_due(storage, wave.id, k)


async def published_aggregates(storage: Storage, wave_id: int, k: int) -> WaveAggregates:
    """What /stats, the CSV and the digest show of a wave: its snapshot, never live rows."""
    return published_figures(await storage.survey.snapshot(wave_id), k)


async def published_respondents(storage: Storage, wave_id: int) -> int | None:
    """How many answers the wave's snapshot counts; None before its first (or below k)."""
    snapshot = await storage.survey.snapshot(wave_id)
    return None if snapshot is None else aggregates_from_json(snapshot.figures).respondents
