"""The survey's branching and validation, as plain functions."""

from __future__ import annotations

import datetime as dt

import pytest

from services.survey.questions import (
    BY_CODE,
    SKIPPED,
    InvalidAnswerError,
    applicable,
    is_complete,
    next_question,
    next_unanswered,
    previous_question,
    progress,
    with_answer,
)
from services.survey.waves import decode_answers, encode_answers, iso_week

THIS_YEAR = 2026


def codes(answers: dict[str, object]) -> list[str]:
    return [question.code for question in applicable(answers)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("left_before", ["status", "country", "year_left", "role", "seniority", "move_how",
                         "return_plan"]),
        ("left_after", ["status", "country", "year_left", "role", "seniority", "move_how",
                        "return_plan"]),
        ("planning", ["status", "destinations", "reasons", "deterrents", "role", "seniority"]),
        ("considering", ["status", "destinations", "reasons", "deterrents", "role",
                         "seniority"]),
        ("staying", ["status", "role", "seniority"]),
        ("returned", ["status", "role", "seniority"]),
        (SKIPPED, ["status", "role", "seniority"]),
    ],
)  # fmt: skip
def test_branching_by_status(status: str, expected: list[str]) -> None:
    assert codes({"status": status}) == expected


@pytest.mark.parametrize(
    ("answers", "code", "value"),
    [
        ({}, "status", "emigrated"),  # not an option
        ({}, "country", "PL"),  # not asked before the status
        ({"status": "staying"}, "country", "PL"),  # not asked of those staying
        ({"status": "left_after"}, "country", "BY"),  # abroad means not Belarus
        ({"status": "planning"}, "destinations", ("PL", "PL")),
        ({"status": "planning"}, "destinations", ()),
        ({"status": "planning"}, "destinations", "PL"),  # a multiple choice takes a tuple
        ({"status": "planning"}, "nonsense", "x"),
    ],
)
def test_invalid_answers_are_refused(answers: dict[str, str], code: str, value: object) -> None:
    with pytest.raises(InvalidAnswerError):
        with_answer(answers, code, value, THIS_YEAR)  # type: ignore[arg-type]


def test_changing_the_status_drops_answers_that_no_longer_apply() -> None:
    answers = with_answer({"status": "left_after"}, "country", "PL", THIS_YEAR)
    answers = with_answer(answers, "role", "qa", THIS_YEAR)
    changed = with_answer(answers, "status", "planning", THIS_YEAR)
    assert changed == {"status": "planning", "role": "qa"}
    assert next_unanswered(changed) is not None
    assert next_unanswered(changed).code == "destinations"  # type: ignore[union-attr]


def test_order_progress_and_completion() -> None:
    answers = {"status": "staying"}
    assert progress(answers, "role") == (2, 3)
    assert previous_question(answers, "status") is None
    assert previous_question(answers, "role").code == "status"  # type: ignore[union-attr]
    assert next_question(answers, "role").code == "seniority"  # type: ignore[union-attr]
    assert next_question(answers, "seniority") is None
    assert not is_complete(answers)
    done = with_answer(
        with_answer(answers, "role", SKIPPED, THIS_YEAR), "seniority", "lead", THIS_YEAR
    )
    assert is_complete(done)


def test_answers_round_trip_through_their_canonical_text() -> None:
    answers = {"status": "planning", "destinations": ("PL", "LT"), "reasons": SKIPPED}
    text = encode_answers(answers)
    assert text == encode_answers(dict(reversed(answers.items())))
    assert decode_answers(text) == answers


def test_only_the_week_is_kept() -> None:
    assert iso_week(dt.date(2026, 11, 23)) == "2026-W48"
    assert iso_week(dt.date(2027, 1, 1)) == "2026-W53"


def test_the_year_left_runs_to_this_year_and_no_further() -> None:
    this_year = 2028
    year_left = BY_CODE["year_left"]
    assert year_left.options_in(this_year)[:2] == ("before_2020", "2020")
    assert year_left.options_in(this_year)[-1] == str(this_year)
    answers = {"status": "left_after", "country": "PL"}
    assert with_answer(answers, "year_left", str(this_year), this_year)["year_left"] == str(
        this_year
    )
    with pytest.raises(InvalidAnswerError):
        with_answer(answers, "year_left", str(this_year + 1), this_year)
