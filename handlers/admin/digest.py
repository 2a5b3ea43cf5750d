"""/digest for the bot's admins: `preview` sends the digest privately as it would go out now;
`now` posts it to DIGEST_CHAT_ID, once a day."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _


class DigestPublisher(Protocol):
    async def preview(self, chat_id: int) -> None: ...

    async def post_now(self, now: dt.datetime | None = None) -> bool: ...

    async def posted_now_today(self) -> bool: ...


async def digest_command(
    message: Message,
    command: CommandObject,
    digest_service: DigestPublisher,
) -> None:
    if message.from_user is None:
        return  # IsBotAdmin let it through, so there is a sender
    verb = (command.args or "").strip().lower()
    if verb == "preview":
        try:
            await digest_service.preview(message.from_user.id)
        except TelegramAPIError:
            await message.reply(_("I cannot write to you privately: start a chat with me first."))
    elif verb == "now":
        if await digest_service.posted_now_today():
            await message.reply(
                _("Today's digest is already posted: /digest now posts once a day.")
            )
        elif await digest_service.post_now():
            await message.reply(_("The digest is posted."))
        else:
            await message.reply(
                _("The digest was not posted: check DIGEST_CHAT_ID and that I may post there.")
            )
    else:
        await message.reply(
            _("/digest preview: the digest privately, as it would go out now\n"
              "/digest now: post it to the digest channel now")
        )  # fmt: skip


def create_router() -> Router:
    router = Router(name="digest_admin")
    router.message.register(digest_command, Command("digest"))
    return router
