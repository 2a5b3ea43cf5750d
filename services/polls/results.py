"""What a poll may show: live counts hide options below k; final results fold small options
into "other options" (kept at k or more), exactly like the survey's tables."""

from __future__ import annotations

from dataclasses import dataclass

from services.survey.aggregates import OTHER, fold_small_categories


def live_counts(tallies: tuple[int, ...], k: int) -> list[int | None]:
    """Counts shown on the buttons while the poll is open: None below k."""
    return [count if count >= k else None for count in tallies]


@dataclass(frozen=True)
class PollResults:
    """Published results: (option index or OTHER, count), largest first; total if shown."""

    rows: tuple[tuple[int | str, int], ...]
    total: int | None


def final_results(tallies: tuple[int, ...], k: int, *, multiple: bool) -> PollResults | None:
    """None when fewer than k took part (as far as the tallies tell)."""
    if multiple:
        # Options are chosen independently: each is shown only if at least k chose it.
        shown = [(index, count) for index, count in enumerate(tallies) if count >= k]
        if not shown:
            return None
        shown.sort(key=lambda row: (-row[1], row[0]))
        return PollResults(tuple(shown), None)
    table = fold_small_categories("poll", {str(i): n for i, n in enumerate(tallies)}, k)
    if table is None:
        return None
    rows: list[tuple[int | str, int]] = [(int(name), count) for name, count in table.cells]
    if table.other:
        rows.append((OTHER, table.other))
    return PollResults(tuple(rows), table.total)
