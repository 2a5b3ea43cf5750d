"""Every name a handler or filter asks for is one the dispatcher hands over: a misspelt name
fails here, not when that handler first runs."""

from __future__ import annotations

import inspect

from aiogram import Router

from bot.dependencies import Dependencies
from handlers import get_routers

# Handed over by aiogram itself (and its FSM, i18n and callback-answer middlewares).
FROM_AIOGRAM = {"bot", "state", "i18n", "callback_answer"}
# Results of filters: CallbackData.filter(), Command(), and the guide's group-question filter.
FROM_FILTERS = {"callback_data", "command", "question"}


def asked_for(router: Router) -> set[str]:
    """The required keyword parameters of the router's handlers and filters, sub-routers too."""
    names: set[str] = set()
    for observer in router.observers.values():
        for handler in observer.handlers:
            for callable_ in (handler, *(handler.filters or ())):
                parameters = inspect.signature(inspect.unwrap(callable_.callback)).parameters
                required = [
                    parameter.name
                    for parameter in parameters.values()
                    if parameter.default is inspect.Parameter.empty
                    and parameter.kind is not inspect.Parameter.VAR_KEYWORD
                ]
                names.update(required[1:])  # the first is the event itself
    for sub_router in router.sub_routers:
        names |= asked_for(sub_router)
    return names


def test_handlers_ask_only_for_what_the_dispatcher_hands_over() -> None:
    asked = set().union(*(asked_for(router) for router in get_routers()))
    handed_over = set(Dependencies.__annotations__) | FROM_AIOGRAM | FROM_FILTERS
    assert asked <= handed_over, sorted(asked - handed_over)
    # And nothing is handed over that no handler wants.
    assert set(Dependencies.__annotations__) <= asked
