"""A wave's snapshot is computed outside the write transaction: other writes go on meanwhile,
and a change made meanwhile keeps its mark, so it counts towards the next publication."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from pathlib import Path

import pytest

import services.survey.waves as waves
from services.privacy import Keyring
from services.survey.aggregates import WaveAggregates
from services.survey.questions import Answers
from services.survey.waves import open_wave, published_respondents, submit_response
from storage import open_storage

K = 5
DAY = dt.date(2026, 11, 23)
KEYRING = Keyring(b"k" * 32)
STAYING: Answers = {"status": "staying", "role": "qa", "seniority": "junior"}


async def test_a_change_while_figures_are_computed_is_kept_for_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path / 'vyraj.db'}")
    computing, go_on = threading.Event(), threading.Event()
    aggregate = waves._aggregate

    def held_aggregate(groups: list[tuple[str, int]], k: int) -> WaveAggregates:
        computing.set()
        assert go_on.wait(timeout=30)
        return aggregate(groups, k)

    monkeypatch.setattr(waves, "_aggregate", held_aggregate)
    try:
        wave = await open_wave(storage, KEYRING, "autumn", DAY)
        for user in range(1, K):
            await submit_response(storage, KEYRING, wave, user, STAYING, DAY, K)
        publishing = asyncio.create_task(
            submit_response(storage, KEYRING, wave, K, STAYING, DAY, K)
        )
        assert await asyncio.to_thread(computing.wait, 30)
        # The write lock is free while the figures are computed: this write goes through.
        monkeypatch.setattr(waves, "_aggregate", aggregate)
        await submit_response(storage, KEYRING, wave, K + 1, STAYING, DAY, K)
        go_on.set()
        await publishing

        assert await published_respondents(storage, wave.id) == K  # as counted
        assert await storage.survey.changed_respondents(wave.id) == 1  # the later one waits
    finally:
        go_on.set()
        await storage.close()
