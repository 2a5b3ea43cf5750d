"""The command list shown by Telegram's menu button, in the current locale."""

from __future__ import annotations

from aiogram.types import BotCommand
from aiogram.utils.i18n import gettext as _


def bot_commands() -> list[BotCommand]:
    return [
        BotCommand(command="start", description=_("Main menu")),
        BotCommand(command="relocate", description=_("Relocation guide by country")),
        BotCommand(command="ask", description=_("Ask a relocation question")),
        BotCommand(command="survey", description=_("Anonymous relocation survey")),
        BotCommand(command="stats", description=_("Survey figures so far")),
        BotCommand(command="notify", description=_("Tell me about new survey waves")),
        BotCommand(command="forget", description=_("Delete what can be linked to me")),
        BotCommand(command="help", description=_("What I can do")),
        BotCommand(command="lang", description=_("Change the language")),
        BotCommand(command="privacy", description=_("What I store and what I don't")),
        BotCommand(command="cancel", description=_("Leave the current dialogue")),
    ]
