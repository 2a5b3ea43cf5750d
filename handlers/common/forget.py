"""/forget: after a confirmation, delete everything that can still be linked to the person."""

from __future__ import annotations

from dataclasses import astuple

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.keyboards import callback_button, inline_keyboard
from handlers.common.replies import edit_or_send
from services.forget import forget_person
from services.privacy import Keyring
from storage import Storage


class ForgetCallback(CallbackData, prefix="forget"):
    confirm: bool


async def forget_command(message: Message) -> None:
    keyboard = inline_keyboard(
        [
            callback_button(_("🗑 Yes, delete everything"), ForgetCallback(confirm=True)),
            callback_button(_("Cancel"), ForgetCallback(confirm=False)),
        ],
        1,
    )
    await message.answer(
        _(
            "This deletes your answers in the open survey wave, your unfinished survey, your "
            "“new wave” subscription, your language, your 👍/👎 on articles and your votes in "
            "open polls. Answers in closed waves cannot be linked to you by anyone any more "
            "(their keys are destroyed), so they stay in the anonymous totals. Delete?"
        ),
        reply_markup=keyboard,
    )


async def on_forget_button(
    query: CallbackQuery,
    callback_data: ForgetCallback,
    state: FSMContext,
    storage: Storage,
    keyring: Keyring,
) -> None:
    if not callback_data.confirm:
        await edit_or_send(query, _("Nothing was deleted."))
        return
    # The dialogue state goes in the same transaction as everything else.
    fsm_key = keyring.fsm_pseudonym(astuple(state.key))
    forgotten = await forget_person(storage, keyring, query.from_user.id, [fsm_key])
    await state.clear()  # where dialogues live elsewhere (Redis), there too
    await edit_or_send(
        query,
        _(
            "🗑 Done. Nothing I keep can be linked to you any more. If you write to me again, "
            "I will start from scratch."
        )
        if forgotten.on_disk
        else _(
            "🗑 Done. Nothing I keep can be linked to you any more; the last copies on disk are "
            "overwritten within a minute. If you write to me again, I will start from scratch."
        ),
    )


def create_router() -> Router:
    router = Router(name="forget")
    private = F.chat.type == ChatType.PRIVATE
    router.message.register(forget_command, Command("forget"), private)
    # The button under /forget@bot in a group: t.me/<bot>?start=forget.
    router.message.register(
        forget_command, CommandStart(deep_link=True, magic=F.args == "forget"), private
    )
    router.callback_query.register(on_forget_button, ForgetCallback.filter())
    return router
