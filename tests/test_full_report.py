"""/stats full's report: rendered once per snapshot and language, a table at a time, so that
other people's updates are handled while it is being rendered."""

from __future__ import annotations

import asyncio
import datetime as dt

from bot.i18n import create_i18n
from services.survey.aggregates import aggregate_wave
from services.survey.questions import Answers
from services.survey.report_cache import FullReport, full_report
from services.survey.snapshot import aggregates_to_json
from storage import SurveySnapshot, Wave

K = 5
WAVE = Wave(1, "Autumn", dt.date(2026, 11, 2), None, None)
STAYING: list[tuple[Answers, int]] = [
    ({"status": "staying", "role": role, "seniority": "junior"}, 10) for role in ("qa", "devops")
]
ANSWERS = [*STAYING, ({"status": "left_before", "country": "PL", "role": "backend"}, 12)]


def snapshot(version: int = 1) -> SurveySnapshot:
    return SurveySnapshot(WAVE.id, version, aggregates_to_json(aggregate_wave(ANSWERS, K)))


async def report_in(locale: str, published: SurveySnapshot) -> FullReport:
    i18n = create_i18n("en")
    with i18n.context(), i18n.use_locale(locale):
        return await full_report(((WAVE, published),), K, locale)


async def test_other_updates_are_handled_while_a_report_is_rendered() -> None:
    turns = 0
    rendering = True

    async def another_update() -> None:
        nonlocal turns
        while rendering:
            turns += 1
            await asyncio.sleep(0)

    other = asyncio.create_task(another_update())
    await asyncio.sleep(0)
    turns_before = turns
    report = await report_in("en", snapshot(version=101))
    rendering = False
    await other
    # One turn at least per table rendered: the loop was given back between them.
    assert turns - turns_before >= len(aggregate_wave(ANSWERS, K).tables)
    assert report.csv is not None
    assert report.csv.startswith("table,category,column,count\n")
    assert "respondents,,,32\n" in report.csv


async def test_a_report_is_rendered_once_per_snapshot_and_language() -> None:
    first = await report_in("en", snapshot(version=201))
    assert await report_in("en", snapshot(version=201)) is first
    assert await report_in("en", snapshot(version=202)) is not first
    in_belarusian = await report_in("be", snapshot(version=201))
    assert in_belarusian is not first
    assert in_belarusian.csv == first.csv  # the CSV's codes do not depend on the language
    assert in_belarusian.messages != first.messages
