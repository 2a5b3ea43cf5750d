"""Synchronous filters are checked on the event loop's thread, with the same arguments and
the same verdicts as aiogram gives them in its worker thread."""

from __future__ import annotations

import datetime as dt
import threading

from aiogram import F, Router
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Chat, Message

from bot.filters_on_loop import check_filters_on_loop


class Dialogue(StatesGroup):
    waiting = State()


def message(text: str, chat_type: str = "private") -> Message:
    return Message(
        message_id=1, date=dt.datetime(2026, 11, 24, tzinfo=dt.UTC),
        chat=Chat(id=7, type=chat_type), text=text,
    )  # fmt: skip


async def answer(message: Message) -> None:
    """Never called: only the filters are checked."""


async def test_synchronous_filters_are_checked_on_the_loop_thread() -> None:
    threads: list[int] = []

    def in_private(message: Message) -> bool:
        threads.append(threading.get_ident())
        return message.chat.type == "private"

    router = Router()
    router.message.register(answer, Dialogue.waiting, in_private, F.text == "hi")
    check_filters_on_loop(router)
    handler = router.message.handlers[0]
    assert all(event_filter.awaitable for event_filter in handler.filters or ())

    waiting = Dialogue.waiting.state
    assert (await handler.check(message("hi"), raw_state=waiting))[0]
    assert not (await handler.check(message("bye"), raw_state=waiting))[0]
    assert not (await handler.check(message("hi", "group"), raw_state=waiting))[0]
    assert not (await handler.check(message("hi"), raw_state=None))[0]
    assert threads == [threading.get_ident()] * 3
