"""Synchronous filters checked on the event loop: aiogram hands each one to a worker thread
(asyncio.to_thread), which for an attribute comparison (F.chat.type, a dialogue State) costs
more than the check, and a /start meets five of them before its handler."""

from __future__ import annotations

import inspect
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject


def check_filters_on_loop(router: Router) -> None:
    """Run every synchronous filter of `router`'s handlers, and its sub-routers', on the loop.
    Such filters must not block: one that waits for anything has to be a coroutine."""
    for each in router.chain_tail:
        for observer in each.observers.values():
            for handler in observer.handlers:
                for event_filter in handler.filters or ():
                    if not event_filter.awaitable:
                        _on_loop(event_filter)


def _on_loop(event_filter: FilterObject) -> None:
    check = event_filter.callback

    async def checked_on_loop(*args: Any, **kwargs: Any) -> Any:
        return check(*args, **kwargs)

    # The same parameters as the filter's, so aiogram hands it the same arguments.
    checked_on_loop.__signature__ = inspect.signature(check)  # type: ignore[attr-defined]
    event_filter.callback = checked_on_loop
    event_filter.awaitable = True
