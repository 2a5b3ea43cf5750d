"""The relocation survey: the dialogue, its views, wave notifications and public figures."""

from aiogram import Router

from handlers.survey import dialogue, notify, stats


def get_routers() -> list[Router]:
    return [dialogue.create_router(), notify.create_router(), stats.create_router()]
