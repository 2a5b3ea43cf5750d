"""Survey figures as text in the current language: /stats now, the digest later."""

from __future__ import annotations

import html
from collections.abc import Iterator

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from services.survey.aggregates import OTHER, ChoiceTable, CrossTab, Table, WaveAggregates
from services.survey.labels import option_label, question_short
from storage import Wave

TOP_COUNTRIES = 5


def _share(count: int, total: int) -> str:
    return f"{count} ({round(100 * count / total)}%)" if total else str(count)


def render_table(table: Table, limit: int | None = None) -> list[str]:
    rows = list(table.cells)
    if table.other:
        rows.append((OTHER, table.other))
    if limit is not None and len(rows) > limit:
        rows = rows[:limit]
    lines = [f"<b>{question_short(table.question)}</b> (N = {table.total})"]
    lines += [
        f"• {html.escape(option_label(table.question, name))}: {_share(count, table.total)}"
        for name, count in rows
    ]
    return lines


def render_choice(choice: ChoiceTable) -> list[str]:
    lines = [f"<b>{question_short(choice.question)}</b> (N = {choice.total})"]
    if not choice.cells:
        return [*lines, "• " + _("no option reached the publication threshold")]
    lines += [
        f"• {html.escape(option_label(choice.question, name))}: {_share(count, choice.total)}"
        for name, count in choice.cells
    ]
    return lines


def render_crosstab(crosstab: CrossTab) -> list[str]:
    first, second = crosstab.name.split("_x_")
    lines = [f"<b>{question_short(first)} × {question_short(second)}</b> (N = {crosstab.total})"]
    for row in crosstab.rows:
        parts = []
        for column in crosstab.columns:
            value = crosstab.cells[(row, column)]
            shown = "·" if value is None else str(value)
            parts.append(f"{html.escape(option_label(second, column))} {shown}")
        lines.append(f"• {html.escape(option_label(first, row))}: " + "; ".join(parts))
    return lines


def wave_heading(wave: Wave) -> str:
    if wave.is_open:
        when = _("open since {date}").format(date=wave.opened_on.isoformat())
    else:
        when = _("{start} to {end}").format(
            start=wave.opened_on.isoformat(),
            end=wave.closed_on.isoformat() if wave.closed_on else "",
        )
    return _("📊 <b>Survey “{label}”</b>, {when}").format(label=html.escape(wave.label), when=when)


def not_enough(k: int) -> str:
    return ngettext(
        "Not enough answers yet: figures appear once at least {k} person has answered.",
        "Not enough answers yet: figures appear once at least {k} people have answered.",
        k,
    ).format(k=k)


def footnote(k: int) -> str:
    return _(
        "Groups smaller than {k} are hidden or folded into “Other”, and the figures are "
        "updated only once {k} people have answered or changed their answers. The sample is "
        "self-selected: it shows those who chose to answer, not all Belarusian IT people."
    ).format(k=k)


def render_headline(wave: Wave, aggregates: WaveAggregates) -> str:
    """What anyone sees with /stats: the number of answers, status and top countries."""
    lines = [wave_heading(wave), ""]
    if aggregates.respondents is None:
        return "\n".join([*lines, not_enough(aggregates.k)])
    lines.append(_("Answers: {count}").format(count=aggregates.respondents))
    for code, limit in (("status", None), ("country", TOP_COUNTRIES)):
        table = aggregates.tables.get(code)
        if table is not None:
            lines += ["", *render_table(table, limit)]
    return "\n".join([*lines, "", footnote(aggregates.k)])


def full_parts(wave: Wave, aggregates: WaveAggregates) -> Iterator[str]:
    """Every published table and cross-tab, one at a time, as parts that each fit one message."""
    if aggregates.respondents is None:
        yield wave_heading(wave) + "\n\n" + not_enough(aggregates.k)
        return
    yield wave_heading(wave) + "\n" + _("Answers: {count}").format(count=aggregates.respondents)
    for table in aggregates.tables.values():
        yield "\n".join(render_table(table))
    for choice in aggregates.choices.values():
        yield "\n".join(render_choice(choice))
    for crosstab in aggregates.crosstabs.values():
        yield "\n".join(render_crosstab(crosstab))
    yield footnote(aggregates.k) + "\n" + _("· = hidden to protect small groups.")


def render_trend(waves: list[tuple[Wave, WaveAggregates]]) -> str:
    """One line per wave, oldest first: answers and the status groups' shares where shown."""
    lines = [_("<b>Across waves</b>")]
    for wave, aggregates in reversed(waves):
        status = aggregates.tables.get("status")
        if aggregates.respondents is None or status is None:
            lines.append(f"• {html.escape(wave.label)}: {not_enough(aggregates.k)}")
            continue
        shares = ", ".join(
            f"{html.escape(option_label('status', name))} {round(100 * count / status.total)}%"
            for name, count in status.cells
        )
        lines.append(f"• {html.escape(wave.label)} (N = {aggregates.respondents}): {shares}")
    return "\n".join(lines)


def join_parts(parts: list[str], limit: int = 4000) -> list[str]:
    """Join parts into as few messages as fit Telegram's limit, never splitting a part."""
    messages: list[str] = []
    for part in parts:
        part = part[:limit]
        if messages and len(messages[-1]) + 2 + len(part) <= limit:
            messages[-1] += "\n\n" + part
        else:
            messages.append(part)
    return messages
