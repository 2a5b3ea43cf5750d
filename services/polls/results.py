"""What a poll may show: live counts hide options below the minimum cell size; final results
fold small options into "other options" (kept at that size or more), like the survey's tables."""

from __future__ import annotations

from dataclasses import dataclass

from services.survey.aggregates import OTHER, fold_small_categories


def live_counts(tallies: tuple[int, ...], min_cell_size: int) -> list[int | None]:
    """Counts shown on the buttons while the poll is open: None below the minimum."""
    return [count if count >= min_cell_size else None for count in tallies]


@dataclass(frozen=True)
class PollResults:
    """Published results: (option index or OTHER, count), largest first; total if shown."""

    rows: tuple[tuple[int | str, int], ...]
    total: int | None


def final_results(
    tallies: tuple[int, ...], min_cell_size: int, *, multiple: bool
) -> PollResults | None:
    """None when fewer than `min_cell_size` took part (as far as the tallies tell)."""
    if multiple:
        # Options are chosen independently: each is shown only if enough people chose it.
        shown = [(index, count) for index, count in enumerate(tallies) if count >= min_cell_size]
        if not shown:
            return None
        shown.sort(key=lambda row: (-row[1], row[0]))
        return PollResults(tuple(shown), None)
    table = fold_small_categories(
        "poll", {str(i): n for i, n in enumerate(tallies)}, min_cell_size
    )
    if table is None:
        return None
    rows: list[tuple[int | str, int]] = [(int(name), count) for name, count in table.cells]
    if table.other:
        rows.append((OTHER, table.other))
    return PollResults(tuple(rows), table.total)
