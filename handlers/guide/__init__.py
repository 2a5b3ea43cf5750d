"""The relocation guide: browsing by country, questions, inline search, readers' reports."""

from aiogram import Router

from handlers.guide import ask, inline, relocate, report


def get_routers() -> list[Router]:
    return [
        relocate.create_router(),
        report.create_router(),
        ask.create_router(),
        inline.create_router(),
    ]
