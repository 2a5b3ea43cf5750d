"""Admin commands for the guide: /unanswered, /kbstats, /kbnotes, /kbreload."""

from __future__ import annotations

import html

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _

from bot.shared.guide_reloads import GuideReloads
from services.clock import Clock
from services.knowledge import ArticleError
from services.knowledge.library import KnowledgeLibrary
from services.knowledge.view_counts import ViewCounts
from services.policy import Policy
from storage import Storage

TOP = 15
TOP_ARTICLES = 40
# Room for the lists of one message (Telegram allows 4096), leaving some for headers and the
# emoji that Telegram counts twice. A message with two lists gives each half.
LIST_BUDGET = 3600
NOTES_PER_ARTICLE = 3  # in the /kbnotes overview
NOTES_SHOWN = 20  # for one article
NOTE_PREVIEW = 200


async def unanswered(message: Message, storage: Storage, view_counts: ViewCounts) -> None:
    await view_counts.flush()  # the questions of the last few seconds too
    questions = await storage.knowledge_stats.top_unanswered(TOP)
    if not questions:
        await message.reply(_("No unanswered questions so far."))
        return
    lines = [f"{q.times} × {html.escape(q.terms)}" for q in questions]
    await message.reply(
        _("<b>Unanswered questions</b> (search terms only), most frequent first:")
        + "\n\n"
        + "\n".join(lines)
    )


async def kbstats(
    message: Message,
    storage: Storage,
    library: KnowledgeLibrary,
    i18n: I18n,
    view_counts: ViewCounts,
) -> None:
    await view_counts.flush()  # the views of the last few seconds too
    stats = await storage.knowledge_stats.article_stats()
    text = _("No article has been read yet.")
    language = i18n.current_locale
    if stats:
        lines = [
            f"{title_of(library, s.article_id, language)}: 👁 {s.views} 👍 {s.helpful} "
            f"👎 {s.unhelpful}"
            for s in stats[:TOP_ARTICLES]
        ]
        text = _("<b>Articles</b>: views and feedback") + "\n\n" + fit(lines, LIST_BUDGET // 2)
    # The open questions get whatever room the views leave.
    await message.reply(text + open_questions_section(library, language, LIST_BUDGET - len(text)))


def title_of(library: KnowledgeLibrary, article_id: str, language: str) -> str:
    """The article's title, escaped; its id when it is no longer in the guide."""
    article = library.base.get(article_id, language)
    return html.escape(article.title if article is not None else article_id)


def fit(lines: list[str], budget: int) -> str:
    """As many of `lines` as fit in `budget` characters, then how many were left out."""
    shown: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > budget:
            left = len(lines) - len(shown)
            shown.append(
                ngettext("… and {count} more", "… and {count} more", left).format(count=left)
            )
            break
        shown.append(line)
        used += len(line) + 1
    return "\n".join(shown)


def open_questions_section(library: KnowledgeLibrary, language: str, budget: int) -> str:
    """The articles with unconfirmed claims, so that admins re-check those first."""
    unconfirmed = library.base.with_open_questions(language)
    if not unconfirmed:
        return ""
    # Titles and counts only: the questions themselves are in each article's front matter.
    lines = [f"{html.escape(a.title)}: ❓ {len(a.open_questions)}" for a in unconfirmed]
    return (
        "\n\n" + _("<b>Open questions</b> (claims not yet confirmed):") + "\n" + fit(lines, budget)
    )


def stale_section(library: KnowledgeLibrary, language: str, policy: Policy, clock: Clock) -> str:
    """The articles past KB_STALE_DAYS, oldest check first, to re-check after a reload."""
    days = policy.kb_stale_days
    stale = library.base.stale(language, clock.today(policy.timezone), days)
    if not stale:
        return "\n\n" + _("No article is past KB_STALE_DAYS ({days} days).").format(days=days)
    lines = [f"{html.escape(a.title)}: {a.verified.isoformat()}" for a in stale]
    header = _("<b>Past KB_STALE_DAYS</b> (checked more than {days} days ago):").format(days=days)
    return "\n\n" + header + "\n" + fit(lines, LIST_BUDGET // 2)


async def kbnotes(
    message: Message,
    command: CommandObject,
    storage: Storage,
    library: KnowledgeLibrary,
    i18n: I18n,
) -> None:
    """`/kbnotes`: notes per article; `/kbnotes <id>`: one article's; `/kbnotes clear <id>`."""
    words = (command.args or "").split()
    language = i18n.current_locale
    if len(words) == 2 and words[0] == "clear":
        async with storage.transaction() as tx:
            cleared = await tx.knowledge_stats.clear_notes(words[1])
        text = ngettext(
            "Cleared {count} note of {title}.", "Cleared {count} notes of {title}.", cleared
        )
        await message.reply(
            text.format(count=cleared, title=title_of(library, words[1], language))
        )
    elif len(words) == 1 and words[0] != "clear":
        await message.reply(await article_notes(storage, library, words[0], language))
    elif not words:
        await message.reply(await notes_overview(storage, library, language))
    else:
        await message.reply(
            _("Use /kbnotes, /kbnotes &lt;article&gt; or /kbnotes clear &lt;article&gt;.")
        )


async def notes_overview(storage: Storage, library: KnowledgeLibrary, language: str) -> str:
    counts = await storage.knowledge_stats.note_counts()
    if not counts:
        return _("No reader has reported anything outdated or wrong.")
    lines: list[str] = []
    for article_id, count in counts:
        lines.append(
            f"<b>{title_of(library, article_id, language)}</b> "
            f"(<code>{html.escape(article_id)}</code>): {count}"
        )
        for note in await storage.knowledge_stats.notes(article_id, NOTES_PER_ARTICLE):
            lines.append(f"• {note.noted_in}: {html.escape(note.note[:NOTE_PREVIEW])}")
    return (
        _("<b>Readers' notes</b> per article, the most noted first:")
        + "\n\n"
        + fit(lines, LIST_BUDGET)
        + "\n\n"
        + _(
            "All of an article's notes: /kbnotes &lt;article&gt;. Once it is fixed: "
            "/kbnotes clear &lt;article&gt;."
        )
    )


async def article_notes(
    storage: Storage, library: KnowledgeLibrary, article_id: str, language: str
) -> str:
    notes = await storage.knowledge_stats.notes(article_id, NOTES_SHOWN)
    title = title_of(library, article_id, language)
    if not notes:
        return _("No notes on {title}.").format(title=title)
    lines = [f"• {note.noted_in}: {html.escape(note.note)}" for note in notes]
    return (
        _("<b>Notes on {title}</b>, newest first:").format(title=title)
        + "\n\n"
        + fit(lines, LIST_BUDGET)
    )


async def kbreload(
    message: Message,
    library: KnowledgeLibrary,
    guide_reloads: GuideReloads,
    i18n: I18n,
    policy: Policy,
    clock: Clock,
) -> None:
    try:
        count = await library.reload()
    except ArticleError as exc:
        await message.reply(
            _("The guide was not reloaded; the previous version stays in service.")
            + f"\n<code>{html.escape(str(exc))}</code>"
        )
        return
    await guide_reloads.announce()  # the other instances, if any, reload too
    text = ngettext(
        "The guide is reloaded: {count} article.",
        "The guide is reloaded: {count} articles.",
        count,
    )
    language = i18n.current_locale
    stale = stale_section(library, language, policy, clock)
    review = stale + open_questions_section(library, language, LIST_BUDGET - len(stale))
    await message.reply(text.format(count=count) + review)


def create_router() -> Router:
    router = Router(name="kb_admin")
    router.message.register(unanswered, Command("unanswered"))
    router.message.register(kbstats, Command("kbstats"))
    router.message.register(kbnotes, Command("kbnotes"))
    router.message.register(kbreload, Command("kbreload"))
    return router
