"""Community polls in group chats: commands, the private wizard, templates, known chats."""

from aiogram import Router

from handlers.polls import chats, commands, wizard


def get_routers() -> list[Router]:
    return [chats.create_router(), commands.create_router(), wizard.create_router()]
