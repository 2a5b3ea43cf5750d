"""The digest as a channel reads it: a chart (status, where people live) with a short caption,
then the text, in the digest's language."""

from __future__ import annotations

import html
from collections.abc import Callable

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from services.charts import Chart
from services.digest import Digest, Figure
from services.survey.labels import option_label
from services.survey.report import footnote, not_enough


def _period(digest: Digest) -> str:
    end = digest.period_end.strftime("%d.%m.%Y")
    if digest.period_start is None or digest.period_start >= digest.period_end:
        return end
    return f"{digest.period_start.strftime('%d.%m')}–{end}"


def _change(figure: Figure) -> str:
    if not figure.change:
        return ""
    return f" {'▲' if figure.change > 0 else '▼'}{abs(figure.change)}"


def _figure_lines(question: str, figures: tuple[Figure, ...]) -> list[str]:
    return [
        f"• {html.escape(option_label(question, f.category))}: {f.count} ({f.share}%)" + _change(f)
        for f in figures
    ]


def digest_title(digest: Digest) -> str:
    return _("📬 Vyraj digest, {period}").format(period=_period(digest))


def headline(digest: Digest) -> str:
    """Who answered: the first lines, also the chart's caption."""
    lines = [f"<b>{digest_title(digest)}</b>"]
    if digest.wave is None:
        return "\n".join([*lines, _("No survey wave has run yet.")])
    lines.append(_("Survey «{label}»").format(label=html.escape(digest.wave.label)))
    if digest.respondents is None:
        return "\n".join([*lines, not_enough(digest.k)])
    answers = _("Answers: {count}").format(count=digest.respondents)
    if digest.new_respondents:
        answers += " " + _("({count:+d} since the last digest)").format(
            count=digest.new_respondents
        )
    lines.append(answers)
    if not digest.fresh:
        lines.append(
            ngettext(
                "The figures are the same as last time: they are updated only once at least "
                "{k} person has answered or changed their answers (a single new answer must "
                "not show).",
                "The figures are the same as last time: they are updated only once at least "
                "{k} people have answered or changed their answers (a single new answer must "
                "not show).",
                digest.k,
            ).format(k=digest.k)
        )
    return "\n".join(lines)


def render_digest_body(digest: Digest, article_title: Callable[[str], str]) -> list[str]:
    """The digest after its headline, in parts (join them with `join_parts`)."""
    parts: list[str] = []
    if digest.respondents is not None:
        parts.append("\n".join([_("<b>Status</b>"), *_figure_lines("status", digest.status)]))
        if digest.countries:
            parts.append(
                "\n".join(
                    [
                        _("<b>Where those who left live now</b>"),
                        *_figure_lines("country", digest.countries),
                    ]
                )
            )
        if digest.previous_wave is not None and digest.wave_shift:
            lines = [
                _("<b>Since the previous wave</b> («{label}»)").format(
                    label=html.escape(digest.previous_wave.label)
                )
            ]
            lines += [
                f"• {html.escape(option_label('status', category))}: {then}% → {now}%"
                for category, then, now in digest.wave_shift
            ]
            parts.append("\n".join(lines))
    if digest.polls:
        lines = [_("<b>Polls closed in this period</b>")]
        for poll in digest.polls:
            if poll.leader is None:
                lines.append(
                    "• "
                    + _("«{question}»: too few votes to publish").format(
                        question=html.escape(poll.question)
                    )
                )
            else:
                lines.append(
                    "• "
                    + _("«{question}»: {leader} leads ({votes})").format(
                        question=html.escape(poll.question),
                        leader=html.escape(poll.leader),
                        votes=poll.leader_votes,
                    )
                )
        parts.append("\n".join(lines))
    guide = [_("<b>Relocation guide</b>")]
    if digest.top_articles:
        read = ", ".join(html.escape(article_title(a)) for a, _count in digest.top_articles)
        guide.append(_("Most read: {articles}").format(articles=read))
    guide.append(
        _("Questions it could not answer so far: {count}").format(count=digest.unanswered)
    )
    parts.append("\n".join(guide))
    parts.append(footnote(digest.k))
    return parts


def digest_chart(digest: Digest) -> Chart | None:
    """Status and where people live, as bars; None when there is nothing to draw."""
    if digest.respondents is None or not digest.status:
        return None
    panels = [
        (
            _("Status (N = {count})").format(count=digest.respondents),
            tuple((option_label("status", f.category), f.count) for f in digest.status),
        )
    ]
    if digest.countries:
        panels.append(
            (
                _("Where those who left live now"),
                tuple((option_label("country", f.category), f.count) for f in digest.countries),
            )
        )
    note = _("Self-selected sample; groups smaller than {k} are hidden.").format(k=digest.k)
    return Chart(digest_title(digest), tuple(panels), note)
