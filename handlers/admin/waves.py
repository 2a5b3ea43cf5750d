"""/wave for the bot's admins: open a wave (and tell subscribers), close it (destroying its
key), list the waves."""

from __future__ import annotations

import html

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.shared.wave_dialogues import WaveDialogues
from services.clock import Clock
from services.policy import Policy
from services.privacy import Keyring
from services.survey.waves import (
    MAX_LABEL,
    WaveAnnouncer,
    WaveError,
    close_wave,
    open_wave,
    published_respondents,
)
from storage import Storage


def usage() -> str:
    return _(
        "Usage:\n/wave: list the waves\n/wave open LABEL: open a new wave (e.g. /wave open "
        "2026 Q4)\n/wave close: close the open wave and destroy its key"
    )


async def wave_command(
    message: Message,
    command: CommandObject,
    storage: Storage,
    keyring: Keyring,
    broadcaster: WaveAnnouncer,
    wave_dialogues: WaveDialogues,
    clock: Clock,
    policy: Policy,
) -> None:
    verb, _space, rest = (command.args or "").strip().partition(" ")
    if verb == "":
        await list_waves(message, storage)
    elif verb == "open":
        try:
            wave = await open_wave(storage, keyring, rest, clock.today(policy.timezone))
        except WaveError as exc:
            await message.reply(
                _("A wave is already open; close it first with /wave close.")
                if str(exc) == "already_open"
                else _(
                    "Give the wave a label of 1 to {limit} characters: /wave open 2026 Q4"
                ).format(limit=MAX_LABEL)
            )
            return
        subscribers = await storage.subscriptions.count()
        broadcaster.start(wave.id, wave.label)
        await message.reply(
            ngettext(
                "Wave “{label}” is open. Telling {count} subscriber about it.",
                "Wave “{label}” is open. Telling {count} subscribers about it.",
                subscribers,
            ).format(label=html.escape(wave.label), count=subscribers)
        )
    elif verb == "close":
        closed = await close_wave(storage, clock.today(policy.timezone))
        if closed is None:
            await message.reply(_("No wave is open."))
            return
        await wave_dialogues.forget_wave(closed.wave.id)  # where they are kept outside it
        text = (
            _(
                "Wave “{label}” is closed and its key destroyed: its responses can no longer "
                "be linked to anyone."
            )
            if closed.on_disk
            else _(
                "Wave “{label}” is closed and its key deleted: its responses can no longer be "
                "linked to anyone. The last copy of the key on disk is overwritten within a "
                "minute, once a read in progress finishes."
            )
        )
        await message.reply(text.format(label=html.escape(closed.wave.label)))
    else:
        await message.reply(usage())


async def list_waves(message: Message, storage: Storage) -> None:
    waves = await storage.survey.waves()
    if not waves:
        await message.reply(_("No waves yet.") + "\n\n" + usage())
        return
    lines = []
    for wave, _count in waves:
        # The snapshot's count, never the live one: no single answer shows here either.
        published = await published_respondents(storage, wave.id)
        responses = "–" if published is None else str(published)
        state = (
            _("open since {date}").format(date=wave.opened_on.isoformat())
            if wave.is_open
            else _("{start} to {end}, key destroyed").format(
                start=wave.opened_on.isoformat(),
                end=wave.closed_on.isoformat() if wave.closed_on else "",
            )
        )
        lines.append(f"#{wave.id} <b>{html.escape(wave.label)}</b>: {state}; {responses}")
    await message.reply(_("<b>Waves</b> (label: dates; responses)") + "\n\n" + "\n".join(lines))


def create_router() -> Router:
    router = Router(name="survey_admin")
    router.message.register(wave_command, Command("wave"))
    return router
