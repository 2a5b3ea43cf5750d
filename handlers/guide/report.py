"""The "Report outdated or wrong" button under an article: one short note from a reader, kept
without anything that links it to them, for the admins' /kbnotes."""

from __future__ import annotations

import datetime as dt
import html

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from handlers.common.replies import out_of_date
from handlers.guide.ask import answer
from handlers.guide.report_button import ReportCallback
from services.clock import Clock
from services.knowledge.library import KnowledgeLibrary
from services.knowledge.reader_notes import NOTE_MAX, NoteQuota, note_to_keep, noted_in
from services.knowledge.view_counts import ViewCounts
from services.policy import Policy
from services.privacy import Keyring
from storage import Storage

DEEP_LINK_PREFIX = "report-"
MAX_DEEP_LINK = 64  # Telegram's limit on a start parameter
# A report left open this long is closed: the next message is most likely a question.
NOTE_WAIT = dt.timedelta(minutes=30)


class ReportStates(StatesGroup):
    writing = State()


def report_link(username: str, article_id: str) -> str | None:
    """The t.me link that opens the report in a private chat; None if the id is too long."""
    payload = DEEP_LINK_PREFIX + article_id
    return f"https://t.me/{username}?start={payload}" if len(payload) <= MAX_DEEP_LINK else None


def note_expired(data: dict[str, object], now: dt.datetime) -> bool:
    """Whether the report opened at `data["opened"]` (Unix seconds) has waited too long."""
    opened = data.get("opened")
    if not isinstance(opened, int):
        return True
    return now - dt.datetime.fromtimestamp(opened, dt.UTC) > NOTE_WAIT


async def ask_for_note(
    message: Message,
    state: FSMContext,
    library: KnowledgeLibrary,
    article_id: str,
    language: str,
    clock: Clock,
) -> None:
    article = library.base.get(article_id, language)
    if article is None:
        await message.answer(out_of_date())
        return
    await state.set_state(ReportStates.writing)
    await state.update_data(article=article_id, opened=int(clock.now().timestamp()))
    await message.answer(
        _(
            "What is outdated or wrong in <b>{title}</b>? Write it in one message, up to "
            "{limit} characters. Please leave out names and contacts: the note is kept "
            "without your name or id, and numbers are masked. /cancel to stop."
        ).format(title=html.escape(article.title), limit=NOTE_MAX)
    )


async def on_report_button(
    query: CallbackQuery,
    callback_data: ReportCallback,
    state: FSMContext,
    bot: Bot,
    library: KnowledgeLibrary,
    i18n: I18n,
    callback_answer: CallbackAnswer,
    clock: Clock,
) -> None:
    if callback_data.article not in library.base.ids:
        callback_answer.text = out_of_date()
        return
    message = query.message
    if isinstance(message, Message) and message.chat.type == ChatType.PRIVATE:
        await ask_for_note(
            message, state, library, callback_data.article, i18n.current_locale, clock
        )
        return
    # Not in front of the group: the note is written in a private chat with the bot.
    link = report_link((await bot.me()).username or "", callback_data.article)
    if link is None:
        callback_answer.text = out_of_date()
        return
    callback_answer.url = link


async def report_deep_link(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    library: KnowledgeLibrary,
    i18n: I18n,
    clock: Clock,
) -> None:
    article_id = (command.args or "").removeprefix(DEEP_LINK_PREFIX)
    await ask_for_note(message, state, library, article_id, i18n.current_locale, clock)


async def note_received(
    message: Message,
    state: FSMContext,
    storage: Storage,
    keyring: Keyring,
    library: KnowledgeLibrary,
    policy: Policy,
    clock: Clock,
    note_quota: NoteQuota,
    view_counts: ViewCounts,
    i18n: I18n,
) -> None:
    text = (message.text or "").strip()
    data = await state.get_data()
    if note_expired(data, clock.now()):
        await state.clear()
        await message.answer(
            _(
                "The report you opened more than {minutes} minutes ago is closed, so I read "
                "this message as a question. To send a note, press the button under the "
                "article again."
            ).format(minutes=int(NOTE_WAIT.total_seconds()) // 60)
        )
        today = clock.today(policy.timezone)
        await answer(message, text, library, view_counts, i18n, policy.kb_stale_days, today)
        return
    if not text:
        await note_not_text(message, state, clock)
        return
    if len(text) > NOTE_MAX:
        await message.answer(
            _("That is {length} characters; please shorten it to {limit}.").format(
                length=len(text), limit=NOTE_MAX
            )
        )
        return
    article_id = str(data.get("article", ""))
    await state.clear()
    if article_id not in library.base.ids or message.from_user is None:
        await message.answer(out_of_date())
        return
    today = clock.today(policy.timezone)
    if not note_quota.take(keyring.user_pseudonym(message.from_user.id), today):
        await message.answer(
            _("Thank you, but that is enough notes for today. Please come back tomorrow.")
        )
        return
    async with storage.transaction() as tx:
        await tx.knowledge_stats.add_note(article_id, note_to_keep(text), noted_in(today))
    await message.answer(
        _("Thank you! Your note is saved for the guide's editors, without your name or id.")
    )


async def note_not_text(message: Message, state: FSMContext, clock: Clock) -> None:
    if note_expired(await state.get_data(), clock.now()):
        await state.clear()  # a sticker long after the report was opened is not for it
        return
    await message.answer(_("Please write the note as text, or send /cancel."))


def create_deep_link_router() -> Router:
    """`/start report-<article>`: before the main /start, which takes every other start."""
    router = Router(name="report_link")
    router.message.register(
        report_deep_link,
        CommandStart(deep_link=True, magic=F.args.startswith(DEEP_LINK_PREFIX)),
        F.chat.type == ChatType.PRIVATE,
    )
    return router


def create_router() -> Router:
    router = Router(name="report")
    router.callback_query.register(on_report_button, ReportCallback.filter())
    writing = ReportStates.writing
    # Commands go on to their own handlers (/cancel leaves the dialogue).
    router.message.register(note_received, writing, F.text, ~F.text.startswith("/"))
    router.message.register(note_not_text, writing, ~F.text)
    return router
