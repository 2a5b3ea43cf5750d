"""Commands for the bot's admins: the guide, survey waves and figures, the digest."""

from aiogram import Router

from handlers.admin import access, digest, figures, guide, waves


def get_routers() -> list[Router]:
    """The admin commands behind one IsBotAdmin filter, then one refusal for everyone else."""
    admin = Router(name="admin")
    admin.message.filter(access.IsBotAdmin())
    admin.include_routers(
        guide.create_router(),
        waves.create_router(),
        digest.create_router(),
        figures.create_router(),
    )
    return [admin, access.create_refusal_router()]
