"""Commands for the bot's admins: the guide, survey waves, the digest."""

from aiogram import Router

from handlers.admin import digest, guide, waves


def get_routers() -> list[Router]:
    return [guide.create_router(), waves.create_router(), digest.create_router()]
