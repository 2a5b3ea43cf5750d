"""Who may run admin commands: the bot's admins (ADMIN_IDS), checked once at router level;
everyone else gets one polite refusal."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, Filter
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.admin.figures import asks_for_full
from services.policy import Policy


class IsBotAdmin(Filter):
    """Passes messages from the bot's admins (`policy.admin_ids`)."""

    async def __call__(self, message: Message, policy: Policy) -> bool:
        return message.from_user is not None and message.from_user.id in policy.admin_ids


async def refuse(message: Message) -> None:
    await message.reply(_("Sorry, this command is only for the bot's admins."))


def create_refusal_router() -> Router:
    """After the admin router: the admin commands from anyone else get the one refusal."""
    router = Router(name="admin_refusal")
    router.message.register(
        refuse, Command("unanswered", "kbstats", "kbnotes", "kbreload", "wave", "digest")
    )
    router.message.register(refuse, Command("stats"), asks_for_full)
    return router
