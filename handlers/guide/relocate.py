"""/relocate: browse the knowledge base, countries -> topics -> article, in one message."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import Literal

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.keyboards import callback_button, inline_keyboard, shared_keyboard
from handlers.common.menu import MenuCallback
from handlers.common.replies import edit_or_send, out_of_date
from handlers.guide.report_button import ReportCallback
from services.clock import Clock
from services.knowledge import Article, ArticleLabels, KnowledgeBase, render_article
from services.knowledge.library import KnowledgeLibrary
from services.knowledge.view_counts import ViewCounts
from services.policy import Policy
from services.privacy import Keyring
from storage import Storage


class BrowseCallback(CallbackData, prefix="kb"):
    view: Literal["countries", "country", "article"]
    key: str = ""


class FeedbackCallback(CallbackData, prefix="fb"):
    article: str
    helpful: bool


def country_name(code: str) -> str:
    names = {
        "pl": _("🇵🇱 Poland"),
        "ge": _("🇬🇪 Georgia"),
        "lt": _("🇱🇹 Lithuania"),
        "uz": _("🇺🇿 Uzbekistan"),
        "lv": _("🇱🇻 Latvia"),
        "am": _("🇦🇲 Armenia"),
        "rs": _("🇷🇸 Serbia"),
        "by": _("📊 The IT exodus in figures"),
    }
    return names.get(code, code)


def article_labels() -> ArticleLabels:
    return ArticleLabels(
        sources=_("Sources"),
        checked_on=_("Checked on {date}. Rules change: check the sources before acting."),
        may_be_outdated=_("This was checked long ago and may be outdated."),
    )


def back_button(target: BrowseCallback) -> InlineKeyboardButton:
    return callback_button(_("⬅️ Back"), target)


def countries_view(knowledge: KnowledgeBase) -> tuple[str, InlineKeyboardMarkup]:
    keyboard = inline_keyboard(
        [
            callback_button(country_name(code), BrowseCallback(view="country", key=code))
            for code in knowledge.countries()
        ],
        2,
    )
    return _("Where are you going, or where do you live? Choose a country:"), keyboard


def country_view(
    knowledge: KnowledgeBase, country: str, language: str
) -> tuple[str, InlineKeyboardMarkup]:
    buttons = [
        callback_button(article.title, BrowseCallback(view="article", key=article.id))
        for article in knowledge.in_country(country, language)
    ]
    buttons.append(back_button(BrowseCallback(view="countries")))
    return _("{country}: choose a topic").format(country=country_name(country)), inline_keyboard(
        buttons, 1
    )


class ArticleViews:
    """Each article's message and keyboard, made once per edition of the guide: they are the
    same for everyone who reads the article in a language (and most of a question's cost).
    The `limit` most recently read are kept (a few kilobytes each), however large the guide."""

    def __init__(self, limit: int = 1024) -> None:
        self._limit = limit
        self._edition: KnowledgeBase | None = None
        # (article id, language, stale) -> the view, least recently read first
        self._views: OrderedDict[tuple[str, str, bool], tuple[str, InlineKeyboardMarkup]] = (
            OrderedDict()
        )

    def get(
        self,
        knowledge: KnowledgeBase,
        article_id: str,
        language: str,
        stale_after_days: int,
        today: dt.date,
    ) -> tuple[str, InlineKeyboardMarkup] | None:
        """The article's message and keyboard in `language`; None if there is no such article."""
        article = knowledge.get(article_id, language)
        if article is None:
            return None
        if knowledge is not self._edition:  # started, or /kbreload: made anew
            self._edition = knowledge
            self._views.clear()
        key = (article_id, language, article.is_stale(today, stale_after_days))
        view = self._views.get(key)
        if view is None:
            view = self._views[key] = make_article_view(
                knowledge, article, stale_after_days, today
            )
            if len(self._views) > self._limit:
                self._views.popitem(last=False)
        else:
            self._views.move_to_end(key)
        return view


# Views depend only on the edition they come from, so one store serves every dispatcher.
article_view = ArticleViews().get


def make_article_view(
    knowledge: KnowledgeBase, article: Article, stale_after_days: int, today: dt.date
) -> tuple[str, InlineKeyboardMarkup]:
    language = article.language
    buttons = [
        callback_button("👍", FeedbackCallback(article=article.id, helpful=True)),
        callback_button("👎", FeedbackCallback(article=article.id, helpful=False)),
        callback_button(_("✏️ Report outdated or wrong"), ReportCallback(article=article.id)),
    ]
    for related_id in article.related:
        related = knowledge.get(related_id, language)
        if related is not None:
            buttons.append(
                callback_button(
                    f"→ {related.title}", BrowseCallback(view="article", key=related_id)
                )
            )
    buttons.append(back_button(BrowseCallback(view="country", key=article.country)))
    text = render_article(
        article, article_labels(), today=today, stale_after_days=stale_after_days
    )
    # Kept by ArticleViews and shown to every reader: turned into JSON once.
    return text, shared_keyboard(buttons, 2, 1)


async def relocate_command(message: Message, library: KnowledgeLibrary) -> None:
    text, keyboard = countries_view(library.base)
    await message.answer(text, reply_markup=keyboard)


async def relocate_from_menu(query: CallbackQuery, library: KnowledgeLibrary) -> None:
    await edit_or_send(query, *countries_view(library.base))


async def browse(
    query: CallbackQuery,
    callback_data: BrowseCallback,
    library: KnowledgeLibrary,
    view_counts: ViewCounts,
    i18n: I18n,
    policy: Policy,
    clock: Clock,
    callback_answer: CallbackAnswer,
) -> None:
    knowledge = library.base
    language = i18n.current_locale
    view: tuple[str, InlineKeyboardMarkup] | None
    if callback_data.view == "countries":
        view = countries_view(knowledge)
    elif callback_data.view == "country" and callback_data.key in knowledge.countries():
        view = country_view(knowledge, callback_data.key, language)
    elif callback_data.view == "article":
        today = clock.today(policy.timezone)
        view = article_view(knowledge, callback_data.key, language, policy.kb_stale_days, today)
        if view is not None:
            view_counts.add(callback_data.key)
    else:
        view = None
    if view is None:  # forged or stale data: nothing by that name
        callback_answer.text = out_of_date()
        return
    await edit_or_send(query, *view)


async def feedback(
    query: CallbackQuery,
    callback_data: FeedbackCallback,
    library: KnowledgeLibrary,
    storage: Storage,
    keyring: Keyring,
    callback_answer: CallbackAnswer,
) -> None:
    if callback_data.article not in library.base.ids:
        callback_answer.text = out_of_date()
        return
    voter = keyring.feedback_voter(query.from_user.id, callback_data.article)
    async with storage.transaction() as tx:
        before = await tx.knowledge_stats.vote(voter, callback_data.article, callback_data.helpful)
    callback_answer.text = feedback_notice(before, callback_data.helpful)


def feedback_notice(before: bool | None, helpful: bool) -> str:
    """What a 👍/👎 tap did: counted, changed, or the same vote again."""
    if before is None:
        return _("Thank you! Your vote is counted (one per person per article).")
    if before != helpful:
        return _("Your vote is changed (one per person per article).")
    return _("You have already voted so; it is counted once.")


def create_router() -> Router:
    router = Router(name="relocate")
    router.callback_query.register(feedback, FeedbackCallback.filter())
    router.message.register(relocate_command, Command("relocate"))
    router.callback_query.register(relocate_from_menu, MenuCallback.filter(F.action == "relocate"))
    router.callback_query.register(browse, BrowseCallback.filter())
    return router
