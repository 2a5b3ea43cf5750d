"""Routers that only take some commands or dialogue states are passed by for other messages:
the same handler takes every message as without the gates, and a passed router is not asked."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Chat, Message, TelegramObject

from bot.router_gates import gate_message_routers, message_needs
from handlers import get_routers

BOT = Bot("42:TEST")


class Dialogue(StatesGroup):
    writing = State()
    other = State()


def message(text: str | None = None, caption: str | None = None) -> Message:
    return Message(
        message_id=1, date=dt.datetime(2026, 11, 24, tzinfo=dt.UTC),
        chat=Chat(id=7, type="private"), text=text, caption=caption,
    )  # fmt: skip


class Tree:
    """A parent router with feature routers below it, recording who took each message and
    how often each router was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.parent = Router(name="parent")
        # First, as a deep link must be: any /start is the next router's.
        deep_link = self.router("deep_link")
        deep_link.message.register(self.taker("link"), CommandStart(deep_link=True))
        deep_link.message.register(self.taker("about"), Command("about"))
        commands = self.router("commands")
        commands.message.register(self.taker("start"), CommandStart())
        commands.message.register(self.taker("help"), Command("help", "info"))
        shouting = self.router("shouting")
        shouting.message.register(self.taker("shout"), Command("SHOUT", ignore_case=True))
        nested = self.router("nested")
        inner = Router(name="inner")
        nested.include_router(inner)
        inner.message.register(self.taker("bang"), Command("bang", prefix="!"))
        dialogue = self.router("dialogue")
        dialogue.message.register(self.taker("note"), Dialogue.writing, F.text)
        dialogue.message.register(self.taker("cancel"), Command("cancel"))
        either = self.router("either")
        either.message.register(self.taker("other"), StateFilter(Dialogue.other), F.text)
        pattern = self.router("pattern")
        pattern.message.register(self.taker("pattern"), Command(re.compile(r"item_\d+")))
        free = self.router("free")
        free.message.register(self.taker("free"), F.text)

    def router(self, name: str) -> Router:
        router = Router(name=name)
        self.parent.include_router(router)

        async def count(
            handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
            event: TelegramObject,
            data: dict[str, Any],
        ) -> Any:
            self.asked.append(name)
            return await handler(event, data)

        # An inner middleware runs only when a handler's filters pass; the root filter below
        # runs whenever the router is asked.
        router.message.filter(self.asked_filter(name))
        router.message.middleware(count)
        return router

    def asked_filter(self, name: str) -> Callable[[Message], Awaitable[bool]]:
        async def asked(message: Message) -> bool:
            self.asked.append(name)
            return True

        return asked

    @staticmethod
    def taker(name: str) -> Callable[[Message], Awaitable[str]]:
        async def take(message: Message) -> str:
            return name

        return take

    async def take(self, event: Message, raw_state: str | None = None) -> Any:
        self.asked.clear()
        return await self.parent.propagate_event("message", event, bot=BOT, raw_state=raw_state)


MESSAGES = [
    (message("/start"), None),
    (message("/start survey"), None),
    (message("/start "), None),
    (message("/about"), None),
    (message("/help"), None),
    (message("/info with args"), None),
    (message("/HELP"), None),
    (message("/shout"), None),
    (message("/ShOuT loud"), None),
    (message("!bang"), None),
    (message("/bang"), None),
    (message(caption="/help"), None),
    (message("/item_12"), None),
    (message("a question"), None),
    (message("a note"), Dialogue.writing.state),
    (message("/cancel"), Dialogue.writing.state),
    (message("text"), Dialogue.other.state),
    (message("   "), None),
    (message(), None),
]


@pytest.mark.parametrize(("event", "raw_state"), MESSAGES)
async def test_every_message_is_taken_as_without_the_gates(
    event: Message, raw_state: str | None
) -> None:
    plain, gated = Tree(), Tree()
    assert gate_message_routers(gated.parent) == 6  # not "pattern" nor "free"
    assert await gated.take(event, raw_state) == await plain.take(event, raw_state)


async def test_a_router_is_not_asked_about_a_message_it_cannot_take() -> None:
    tree = Tree()
    gate_message_routers(tree.parent)
    assert await tree.take(message("a question")) == "free"
    assert tree.asked == ["pattern", "free", "free"]  # its root filter, then its handler
    assert await tree.take(message("/help")) == "help"
    assert tree.asked == ["commands", "commands"]
    # Only a /start with a payload is a deep link's.
    assert await tree.take(message("/start")) == "start"
    assert tree.asked == ["commands", "commands"]
    assert await tree.take(message("/start payload")) == "link"
    assert tree.asked == ["deep_link", "deep_link"]
    assert await tree.take(message("a note"), Dialogue.writing.state) == "note"
    assert tree.asked == ["dialogue", "dialogue"]


async def test_other_updates_and_unknown_data_reach_every_router() -> None:
    tree = Tree()
    gate_message_routers(tree.parent)
    # Without the dialogue's state in the data the gate cannot tell: the routers decide.
    await tree.parent.propagate_event("message", message("a question"), bot=BOT)
    assert tree.asked[:6] == ["deep_link", "commands", "shouting", "nested", "dialogue", "either"]
    result = await tree.parent.propagate_event("edited_message", message("/help"), bot=BOT)
    assert result is UNHANDLED  # no router observes edits, but each was asked


def test_routers_that_may_take_any_text_are_not_gated() -> None:
    middleware_router = Router()
    middleware_router.message.register(Tree.taker("x"), Command("x"))

    async def outer(handler: Any, event: TelegramObject, data: dict[str, Any]) -> Any:
        return await handler(event, data)

    middleware_router.message.outer_middleware(outer)
    assert message_needs(middleware_router) is None
    any_state = Router()
    any_state.message.register(Tree.taker("y"), StateFilter("*"), F.text)
    assert message_needs(any_state) is None
    no_dialogue = Router()
    no_dialogue.message.register(Tree.taker("z"), StateFilter(None))
    assert message_needs(no_dialogue) is None
    whole_group = Router()
    whole_group.message.register(Tree.taker("w"), StateFilter(Dialogue))
    assert message_needs(whole_group) is None


def test_vyrajs_command_and_dialogue_routers_are_gated() -> None:
    parent = Router()
    parent.include_routers(*get_routers())
    gate_message_routers(parent)
    gated = {router.name for router in parent.sub_routers if "propagate_event" in vars(router)}
    # Everything a /help passed before its own router, the survey's dialogue included.
    assert {"admin", "admin_refusal", "survey", "notify", "stats", "report_link"} <= gated
    assert {"cancel", "private_only", "forget", "start", "language", "privacy"} <= gated
    # Text that is no command may be theirs.
    assert not {"free_text", "ask", "fallback"} & gated
