"""/notify: opt in or out of a message when a new survey wave opens. The chat id is kept
sealed, under a pseudonym of its own that nothing links to survey answers."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.keyboards import callback_button, inline_keyboard
from handlers.common.replies import edit_or_send
from services.privacy import Keyring
from services.survey.subscriptions import subscribe, unsubscribe
from storage import Storage


class NotifyCallback(CallbackData, prefix="nt"):
    on: bool


def notify_keyboard(subscribed: bool) -> InlineKeyboardMarkup:
    if subscribed:
        button = callback_button(_("🔕 Stop telling me about new waves"), NotifyCallback(on=False))
    else:
        button = callback_button(_("🔔 Tell me when a new wave opens"), NotifyCallback(on=True))
    return inline_keyboard([button])


async def notify_command(message: Message, storage: Storage, keyring: Keyring) -> None:
    user = message.from_user
    if user is None:
        return
    subscribed = await storage.subscriptions.is_subscribed(keyring.subscriber(user.id))
    text = (
        _("🔔 You will get a message when a new survey wave opens.")
        if subscribed
        else _("You do not get messages about new survey waves.")
    )
    await message.answer(text, reply_markup=notify_keyboard(subscribed))


async def on_notify_button(
    query: CallbackQuery, callback_data: NotifyCallback, storage: Storage, keyring: Keyring
) -> None:
    if callback_data.on:
        await subscribe(storage, keyring, query.from_user.id, get_i18n().current_locale)
        text = _("🔔 Done: I will tell you when a new survey wave opens.")
    else:
        await unsubscribe(storage, keyring, query.from_user.id)
        text = _("🔕 Done: no more messages about new waves.")
    await edit_or_send(query, text, notify_keyboard(callback_data.on))


def create_router() -> Router:
    router = Router(name="notify")
    private = F.chat.type == ChatType.PRIVATE
    router.message.register(notify_command, Command("notify"), private)
    # The button under /notify@bot in a group: t.me/<bot>?start=notify.
    router.message.register(
        notify_command, CommandStart(deep_link=True, magic=F.args == "notify"), private
    )
    router.callback_query.register(on_notify_button, NotifyCallback.filter())
    return router
