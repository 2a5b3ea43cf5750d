"""Whatever the answers, no published figure is below k and no hidden one can be computed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.survey.aggregates import (
    OTHER,
    CrossTab,
    WaveAggregates,
    aggregate_wave,
    fold_small_categories,
    suppress_crosstab,
)
from services.survey.questions import (
    BY_CODE,
    SKIPPED,
    STATUS_GROUPS,
    Answer,
    Answers,
    next_unanswered,
    with_answer,
)

THIS_YEAR = 2026  # the year options run to; the figures do not depend on it


@st.composite
def responses(draw: st.DrawFn) -> tuple[Answers, int]:
    """One complete set of answers (few options, so some cells grow large), with a weight."""
    answers: dict[str, Answer] = {}
    while (question := next_unanswered(answers)) is not None:
        pool = (question.common or question.options_for(answers, THIS_YEAR))[:4]
        if question.multiple:
            value: Answer = draw(
                st.one_of(
                    st.just(SKIPPED),
                    st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True).map(
                        tuple
                    ),
                )
            )
        else:
            value = draw(st.sampled_from((*pool, SKIPPED)))
        answers = with_answer(answers, question.code, value, THIS_YEAR)
    return answers, draw(st.integers(min_value=1, max_value=12))


waves = st.lists(responses(), max_size=60)
ks = st.integers(min_value=5, max_value=12)


def determined(crosstab: CrossTab) -> list[tuple[str, str]]:
    """Hidden cells that the published cells and margins pin down (linear algebra, by rank)."""
    hidden = [cell for cell, value in crosstab.cells.items() if value is None]
    rows, columns = crosstab.rows, crosstab.columns
    matrix = np.array(
        [[1.0 if cell[0] == row else 0.0 for cell in hidden] for row in rows]
        + [[1.0 if cell[1] == column else 0.0 for cell in hidden] for column in columns]
    ).reshape(len(rows) + len(columns), len(hidden))
    rank = np.linalg.matrix_rank(matrix)
    found = []
    for index, cell in enumerate(hidden):
        unit = np.zeros((1, len(hidden)))
        unit[0, index] = 1.0
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            found.append(cell)
    return found


def published_figures(result: WaveAggregates) -> list[int]:
    figures = [] if result.respondents is None else [result.respondents]
    for table in result.tables.values():
        figures += [table.total, *(count for _, count in table.cells)]
        figures += [table.other] if table.other else []
    for choice in result.choices.values():
        figures += [count for _, count in choice.cells]
    for crosstab in result.crosstabs.values():
        figures += [value for value in crosstab.cells.values() if value is not None]
        figures += [*crosstab.row_totals.values(), *crosstab.column_totals.values()]
    return figures


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(waves, ks)
def test_no_published_figure_is_below_k(wave: list[tuple[Answers, int]], k: int) -> None:
    result = aggregate_wave(wave, k)
    assert all(figure >= k for figure in published_figures(result))
    for choice in result.choices.values():
        # Nor is the number of people who did NOT choose a shown option.
        assert all(choice.total - count >= k for _, count in choice.cells)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(waves, ks)
def test_hidden_categories_only_ever_appear_together_as_other(
    wave: list[tuple[Answers, int]], k: int
) -> None:
    result = aggregate_wave(wave, k)
    for table in result.tables.values():
        # The total minus the visible cells is exactly OTHER (>= k, or 0): nothing else.
        assert table.total == sum(count for _, count in table.cells) + table.other
        assert table.other == 0 or table.other >= k


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(waves, ks)
def test_group_sizes_behind_sub_questions_are_published_ones(
    wave: list[tuple[Answers, int]], k: int
) -> None:
    result = aggregate_wave(wave, k)
    status = result.tables.get("status")
    shown = {} if status is None else dict(status.cells)
    for code, table in {**result.tables, **result.choices}.items():
        asked_of = BY_CODE[code].asked_of
        if code == "status" or asked_of is None:
            if code != "status":
                assert table.total == result.respondents
            continue
        group = next(name for name, children in STATUS_GROUPS.items() if children == asked_of)
        # The group's size is on the status table: as its own line or as all its parts.
        parts = [shown[child] for child in asked_of if child in shown]
        assert table.total in (shown.get(group), sum(parts))
        assert status is not None
        assert not status.folded.intersection((group, *asked_of))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(waves, ks)
def test_no_hidden_crosstab_cell_can_be_computed(wave: list[tuple[Answers, int]], k: int) -> None:
    result = aggregate_wave(wave, k)
    for crosstab in result.crosstabs.values():
        assert determined(crosstab) == []
        # Its margins are exactly the one-way tables' published figures.
        for code, totals in zip(
            crosstab.name.split("_x_"), (crosstab.row_totals, crosstab.column_totals), strict=True
        ):
            published = {**dict(result.tables[code].cells), OTHER: result.tables[code].other}
            assert all(total == published[name] for name, total in totals.items())


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.lists(st.integers(min_value=0, max_value=40), min_size=2, max_size=5),
        min_size=2,
        max_size=5,
    ).filter(lambda grid: len({len(row) for row in grid}) == 1),
    ks,
)
def test_crosstab_suppression_on_any_grid(grid: list[list[int]], k: int) -> None:
    rows = tuple(f"r{i}" for i in range(len(grid)))
    columns = tuple(f"c{j}" for j in range(len(grid[0])))
    counts = {
        (rows[i], columns[j]): value for i, row in enumerate(grid) for j, value in enumerate(row)
    }
    crosstab = suppress_crosstab("grid", counts, rows, columns, k)
    assert crosstab is not None
    assert all(value is None or value >= k for value in crosstab.cells.values())
    assert all(crosstab.cells[cell] is None for cell, value in counts.items() if value < k)
    assert determined(crosstab) == []


def test_a_single_small_category_takes_the_next_smallest_with_it() -> None:
    table = fold_small_categories("country", {"PL": 50, "LT": 20, "RS": 3}, k=10)
    assert table is not None
    assert table.cells == (("PL", 50),)
    assert table.other == 23
    assert table.folded == {"LT", "RS"}


def test_too_few_answers_publish_nothing() -> None:
    answers = {"status": "staying", "role": "qa", "seniority": "junior"}
    assert aggregate_wave([(answers, 9)], k=10) == WaveAggregates(10, None)
    assert aggregate_wave([(answers, 10)], k=10).respondents == 10


def test_k_below_five_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 5"):
        aggregate_wave([], k=4)
