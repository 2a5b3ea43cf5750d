"""Counts per question and cross-tabs for one wave, with small-cell suppression.

What this module publishes never singles anyone out:
- every published figure is at least `k` (MIN_CELL_SIZE) or a structural zero that is never
  shown (a category nobody chose is simply not listed);
- categories below `k` fold into OTHER, and OTHER itself is made at least `k` by folding the
  next smallest categories into it, so a table's total minus its visible cells gives only
  OTHER, never one hidden category;
- a sub-question (country, year left...) is published only when the size of the group asked
  it is itself published, so no group size can be had by subtraction between tables;
- in a cross-tab every cell below `k` is hidden, and further cells are hidden until no hidden
  cell is a linear combination of the published cells and margins (checked exactly, with the
  null space of the margin equations), so no subtraction recovers a hidden cell.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from services.survey.questions import (
    BY_CODE,
    LEFT,
    SKIPPED,
    STATUS_GROUPS,
    Answers,
    Question,
)

OTHER = "*other*"  # the folded categories; never an option code
MIN_CELL_SIZE_FLOOR = 5


@dataclass(frozen=True)
class Table:
    """A one-way table: the visible categories (largest first), OTHER and the total."""

    question: str
    total: int
    cells: tuple[tuple[str, int], ...]
    other: int = 0
    folded: frozenset[str] = frozenset()

    def published_category(self, category: str) -> str | None:
        """The category as published (itself or OTHER); None for a category nobody chose."""
        if category in self.folded:
            return OTHER
        return category if any(name == category for name, _ in self.cells) else None

    @property
    def categories(self) -> tuple[str, ...]:
        """The visible categories in order, OTHER last when there is one."""
        names = tuple(name for name, _ in self.cells)
        return (*names, OTHER) if self.other else names


@dataclass(frozen=True)
class ChoiceTable:
    """A multiple-choice question: how many chose each option; hidden options not listed."""

    question: str
    total: int
    cells: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class CrossTab:
    """Counts by two questions; None marks a hidden cell. Margins equal the one-way tables."""

    name: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: Mapping[tuple[str, str], int | None]
    row_totals: Mapping[str, int]
    column_totals: Mapping[str, int]
    total: int


@dataclass(frozen=True)
class WaveAggregates:
    """Everything publishable about one wave. `respondents` is None below k."""

    k: int
    respondents: int | None
    tables: Mapping[str, Table] = field(default_factory=dict)
    choices: Mapping[str, ChoiceTable] = field(default_factory=dict)
    crosstabs: Mapping[str, CrossTab] = field(default_factory=dict)


def fold_small_categories(question: str, counts: Mapping[str, int], k: int) -> Table | None:
    """Categories below k folded into OTHER (itself made >= k); None when the total is below k."""
    positive = {name: count for name, count in counts.items() if count > 0}
    total = sum(positive.values())
    if total < k:
        return None
    visible = {name: count for name, count in positive.items() if count >= k}
    folded = set(positive) - set(visible)
    other = sum(positive[name] for name in folded)
    while 0 < other < k:
        smallest = min(visible, key=lambda name: (visible[name], name))
        other += visible.pop(smallest)
        folded.add(smallest)
    cells = tuple(sorted(visible.items(), key=lambda item: (-item[1], item[0])))
    return Table(question, total, cells, other, frozenset(folded))


def _status_table(counts: Mapping[str, int], k: int) -> tuple[Table | None, dict[str, int]]:
    """The status table, a group shown as its parts only when every part is >= k.

    Returns the table and the published size of each status group (its population).
    """
    level: dict[str, int] = {}
    for group, children in STATUS_GROUPS.items():
        parts = {child: counts.get(child, 0) for child in children}
        if all(count == 0 or count >= k for count in parts.values()):
            level.update(parts)
        else:
            level[group] = sum(parts.values())
    level[SKIPPED] = counts.get(SKIPPED, 0)
    table = fold_small_categories("status", level, k)
    if table is None:
        return None, {}
    populations = {}
    for group, children in STATUS_GROUPS.items():
        size = sum(counts.get(child, 0) for child in children)
        hidden = table.folded.intersection((group, *children))
        if size >= k and not hidden:
            populations[group] = size
    return table, populations


def _choice_table(question: str, counts: Mapping[str, int], total: int, k: int) -> ChoiceTable:
    """Per-option counts of a multiple choice; an option shows only when both it and the
    people who did not choose it number at least k."""
    cells = tuple(
        sorted(
            ((name, count) for name, count in counts.items() if k <= count <= total - k),
            key=lambda item: (-item[1], item[0]),
        )
    )
    return ChoiceTable(question, total, cells)


def _determined_cells(hidden: list[tuple[int, int]], shape: tuple[int, int]) -> list[int]:
    """Indexes of hidden cells whose value follows from the published cells and margins."""
    rows, columns = shape
    equations = np.zeros((rows + columns, len(hidden)))
    for index, (row, column) in enumerate(hidden):
        equations[row, index] = 1.0
        equations[rows + column, index] = 1.0
    # A hidden cell is determined iff it is zero in every vector of the null space.
    _, singular, vt = np.linalg.svd(equations)
    rank = int((singular > 1e-9).sum())
    null_space = vt[rank:]
    if null_space.shape[0] == 0:
        return list(range(len(hidden)))
    return [int(i) for i in np.flatnonzero(np.abs(null_space).max(axis=0) < 1e-9)]


def _no_lone_hidden_cell(grid: npt.NDArray[np.int64], hidden: npt.NDArray[np.bool_]) -> None:
    """The cheap first pass: a row or column with one hidden cell gives it away by
    subtraction, so hide its smallest visible cell too, until no such line is left."""
    changed = True
    while changed:
        changed = False
        for lines, cells in ((grid, hidden), (grid.T, hidden.T)):
            for index in range(lines.shape[0]):
                if cells[index].sum() == 1 and not cells[index].all():
                    visible = np.flatnonzero(~cells[index])
                    cells[index, visible[np.argmin(lines[index, visible])]] = True
                    changed = True


def suppress_crosstab(
    name: str,
    counts: Mapping[tuple[str, str], int],
    rows: tuple[str, ...],
    columns: tuple[str, ...],
    k: int,
) -> CrossTab | None:
    """Hide cells below k, then more cells until no hidden cell can be computed from the rest."""
    if len(rows) < 2 or len(columns) < 2:
        return None
    grid = np.array([[counts.get((row, column), 0) for column in columns] for row in rows])
    hidden = grid < k
    _no_lone_hidden_cell(grid, hidden)
    while True:
        positions = [(int(r), int(c)) for r, c in zip(*np.nonzero(hidden), strict=True)]
        if not positions:
            break
        determined = _determined_cells(positions, grid.shape)
        if not determined:
            break
        row, column = positions[determined[0]]
        candidates = [(r, column) for r in range(grid.shape[0]) if not hidden[r, column]]
        candidates += [(row, c) for c in range(grid.shape[1]) if not hidden[row, c]]
        if not candidates:
            candidates = [(int(r), int(c)) for r, c in zip(*np.nonzero(~hidden), strict=True)]
        if not candidates:
            break
        smallest = min(candidates, key=lambda cell: (grid[cell], cell))
        hidden[smallest] = True
    cells = {
        (rows[r], columns[c]): None if hidden[r, c] else int(grid[r, c])
        for r in range(len(rows))
        for c in range(len(columns))
    }
    return CrossTab(
        name,
        rows,
        columns,
        cells,
        {row: int(grid[r].sum()) for r, row in enumerate(rows)},
        {column: int(grid[:, c].sum()) for c, column in enumerate(columns)},
        int(grid.sum()),
    )


def aggregate_wave(responses: Iterable[tuple[Answers, int]], k: int) -> WaveAggregates:
    """All publishable figures of a wave from (answers, how many people gave them) pairs."""
    if k < MIN_CELL_SIZE_FLOOR:
        raise ValueError(f"k must be at least {MIN_CELL_SIZE_FLOOR}")
    single: dict[str, Counter[str]] = {code: Counter() for code in BY_CODE}
    multiple: dict[str, Counter[str]] = {}
    pairs: dict[tuple[str, str], Counter[tuple[str, str]]] = {
        ("status", "country"): Counter(),
        ("country", "year_left"): Counter(),
    }
    respondents = 0
    kept: list[tuple[Answers, int]] = []
    for answers, weight in responses:
        respondents += weight
        kept.append((answers, weight))
        for code, question in BY_CODE.items():
            if not question.applies(answers):
                continue
            value = answers.get(code, SKIPPED)
            if question.multiple:
                chosen = (SKIPPED,) if value == SKIPPED else tuple(value)
                bucket = multiple.setdefault(code, Counter())
                for option in chosen:
                    bucket[option] += weight
                bucket["*asked*"] += weight
            else:
                single[code][str(value)] += weight
    if respondents < k:
        return WaveAggregates(k, None)

    status, populations = _status_table(single.pop("status"), k)
    tables: dict[str, Table] = {} if status is None else {"status": status}
    choices: dict[str, ChoiceTable] = {}
    for code, question in BY_CODE.items():
        population = _population_of(question, populations, respondents)
        if population is None:
            continue
        if question.multiple:
            counts = multiple.get(code, Counter())
            asked = counts.pop("*asked*", 0)
            choices[code] = _choice_table(code, counts, asked, k)
        elif code in single:
            table = fold_small_categories(code, single[code], k)
            if table is not None:
                tables[code] = table

    crosstabs: dict[str, CrossTab] = {}
    for answers, weight in kept:
        if answers.get("status") not in LEFT:
            continue
        for first, second in pairs:
            a, b = str(answers.get(first, SKIPPED)), str(answers.get(second, SKIPPED))
            pairs[(first, second)][(a, b)] += weight
    for (first, second), pair_counts in pairs.items():
        crosstab = _crosstab(f"{first}_x_{second}", first, second, pair_counts, tables, status, k)
        if crosstab is not None:
            crosstabs[crosstab.name] = crosstab
    return WaveAggregates(k, respondents, tables, choices, crosstabs)


def _population_of(
    question: Question, populations: Mapping[str, int], respondents: int
) -> int | None:
    if question.code == "status":
        return None
    if question.asked_of is None:
        return respondents
    for group, children in STATUS_GROUPS.items():
        if tuple(children) == tuple(question.asked_of):
            return populations.get(group)
    return None


def _crosstab(
    name: str,
    first: str,
    second: str,
    counts: Mapping[tuple[str, str], int],
    tables: Mapping[str, Table],
    status: Table | None,
    k: int,
) -> CrossTab | None:
    """A cross-tab over the categories exactly as the one-way tables publish them."""
    if first == "status":
        if status is None or any(child not in status.categories for child in LEFT):
            return None
        row_table: Table | None = status
    else:
        row_table = tables.get(first)
    column_table = tables.get(second)
    if row_table is None or column_table is None:
        return None
    regrouped: Counter[tuple[str, str]] = Counter()
    for (a, b), count in counts.items():
        row, column = row_table.published_category(a), column_table.published_category(b)
        if row is not None and column is not None:
            regrouped[(row, column)] += count
    rows = tuple(name for name in row_table.categories if first != "status" or name in LEFT)
    return suppress_crosstab(name, regrouped, rows, column_table.categories, k)
