"""Who may run admin commands: the bot's admins (ADMIN_IDS)."""

from __future__ import annotations

from aiogram.types import Message
from aiogram.utils.i18n import gettext as _


def is_admin(message: Message, admin_ids: frozenset[int]) -> bool:
    return message.from_user is not None and message.from_user.id in admin_ids


async def refuse(message: Message) -> None:
    await message.reply(_("Sorry, this command is only for the bot's admins."))
