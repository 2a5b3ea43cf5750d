"""One router per user-facing feature, built fresh by `get_routers` in a fixed order."""

from aiogram import Router

from handlers import (
    ask,
    cancel,
    chats,
    digest_admin,
    errors,
    fallback,
    forget,
    inline,
    kb_admin,
    language,
    notify,
    poll_wizard,
    polls,
    privacy,
    relocate,
    start,
    stats,
    survey,
    survey_admin,
)


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
