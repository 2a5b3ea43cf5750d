"""One router per user-facing feature, grouped in feature packages; `get_routers` builds them
fresh, in the order the dispatcher tries them."""

from aiogram import Router

from handlers import admin, common, guide, polls, survey
from handlers.common import errors, fallback
from handlers.guide import ask, report


def get_routers() -> list[Router]:
    """All routers, in order: the first handler whose filters pass takes the update."""
    return [
        # A question typed in private first: the handlers it used to come after all want a
        # command or a dialogue's state, so none took it, and the walk past them all was a
        # fifth of a question's cost.
        ask.create_free_text_router(),
        # Then admin commands: `/stats full` is theirs (or refused) before the public /stats.
        *admin.get_routers(),
        # The survey before common: `/start survey` (a deep link) opens the survey, and any
        # other /start the main menu.
        *survey.get_routers(),
        report.create_deep_link_router(),  # `/start report-<article>`, likewise
        *common.get_routers(),
        *guide.get_routers(),
        *polls.get_routers(),
        # Last: any command or button no feature claimed gets a polite answer.
        fallback.create_router(),
        errors.create_router(),  # errors of any router, wherever it stands
    ]
