"""A poll's texts in the current locale: the census message and the published results."""

from __future__ import annotations

import html
from dataclasses import dataclass

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from services.polls.results import final_results, live_counts
from services.survey.aggregates import OTHER
from storage import Poll


def census_text(poll: Poll, min_cell_size: int) -> str:
    """The census message above its buttons: the question and how it counts, or closed."""
    lines = [f"📊 <b>{html.escape(poll.question)}</b>"]
    if not poll.is_open:
        lines.append(_("This poll is closed."))
        return "\n".join(lines)
    if poll.multiple:
        lines.append(_("Anonymous, several answers allowed."))
    else:
        lines.append(_("Anonymous: one vote per person, you can change it."))
    if poll.hidden_counts:
        lines.append(_("Counts are hidden until the poll closes; then the results are posted."))
    else:
        lines.append(
            _(
                "Counts are updated only after {k} more people have voted or changed their "
                "vote, and counts below {k} are hidden."
            ).format(k=min_cell_size)
        )
    return "\n".join(lines)


def census_button_labels(poll: Poll, min_cell_size: int) -> list[str]:
    """One label per option: with its last shown count (`<min` below the minimum), or the
    bare option while the counts are hidden until close."""
    if poll.hidden_counts:
        return list(poll.options)
    counts = live_counts(poll.tallies, min_cell_size)
    return [
        f"{option} · {count if count is not None else f'<{min_cell_size}'}"
        for option, count in zip(poll.options, counts, strict=True)
    ]


@dataclass(frozen=True)
class ResultsView:
    """The results text, and the chart's bars when the results may be charted."""

    text: str
    bars: tuple[tuple[str, int], ...]
    shares: bool


def results_view(poll: Poll, min_cell_size: int) -> ResultsView:
    """The closed poll's results, small options folded away; no bars below the threshold."""
    results = final_results(poll.tallies, min_cell_size, multiple=poll.multiple)
    heading = _("📊 Results: {question}").format(question=html.escape(poll.question))
    if results is None:
        refused = ngettext(
            "Fewer than {k} vote: the results are not published.",
            "Fewer than {k} votes: the results are not published.",
            min_cell_size,
        ).format(k=min_cell_size)
        return ResultsView(heading + "\n\n" + refused, (), shares=False)
    bars = tuple(
        (_("Other options together") if index == OTHER else poll.options[int(index)], count)
        for index, count in results.rows
    )
    lines = [heading, ""]
    for label, count in bars:
        share = f" ({round(100 * count / results.total)}%)" if results.total else ""
        lines.append(f"• {html.escape(label)}: {count}{share}")
    if results.total is not None:
        lines.append(_("Votes: {count}").format(count=results.total))
    lines.append(
        ngettext(
            "Options with fewer than {k} vote are not shown separately.",
            "Options with fewer than {k} votes are not shown separately.",
            min_cell_size,
        ).format(k=min_cell_size)
    )
    return ResultsView("\n".join(lines), bars, shares=results.total is not None)
