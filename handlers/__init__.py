"""One router per user-facing feature, built fresh by `get_routers` in a fixed order."""

from aiogram import Router

from handlers.admin import digest as digest_admin
from handlers.admin import guide as kb_admin
from handlers.admin import waves as survey_admin
from handlers.common import cancel, errors, fallback, forget, language, privacy, start
from handlers.guide import ask, inline, relocate
from handlers.polls import chats
from handlers.polls import commands as polls
from handlers.polls import wizard as poll_wizard
from handlers.survey import dialogue as survey
from handlers.survey import notify, stats


def get_routers() -> list[Router]:
    """Feature routers first, then the fallback for everything unrecognised, then errors."""
    return [
        cancel.create_router(),
        chats.create_router(),
        survey.create_router(),
        notify.create_router(),
        start.create_router(),
        language.create_router(),
        relocate.create_router(),
        ask.create_router(),
        inline.create_router(),
        kb_admin.create_router(),
        survey_admin.create_router(),
        digest_admin.create_router(),
        stats.create_router(),
        polls.create_router(),
        poll_wizard.create_router(),
        privacy.create_router(),
        forget.create_router(),
        fallback.create_router(),
        errors.create_router(),
    ]
