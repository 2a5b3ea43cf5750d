"""One router per user-facing feature, grouped in feature packages; `get_routers` builds them
fresh, in the order the dispatcher tries them."""

from aiogram import Router

from handlers import admin, common, guide, polls, survey
from handlers.common import errors, fallback
from handlers.guide import report


def get_routers() -> list[Router]:
    """All routers, in order: the first handler whose filters pass takes the update."""
    return [
        # Admin commands first: `/stats full` is theirs (or refused) before the public /stats.
        *admin.get_routers(),
        # The survey before common: `/start survey` (a deep link) opens the survey, and any
        # other /start the main menu.
        *survey.get_routers(),
        report.create_deep_link_router(),  # `/start report-<article>`, likewise
        *common.get_routers(),
        *guide.get_routers(),
        *polls.get_routers(),
        # Last: any command or button no feature claimed gets a polite answer. Private text
        # outside a dialogue is the guide's (ask.free_text) by filters, not by this order.
        fallback.create_router(),
        errors.create_router(),  # errors of any router, wherever it stands
    ]
