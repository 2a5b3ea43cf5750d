"""A message passes by the routers that cannot take it, without asking them.

aiogram asks every router in turn, and each costs 10-30 µs to say no (wrapping its middlewares,
checking each handler's filters): a /help met ten of them before its own, a quarter of its
cost. A router (with its sub-routers) whose every message handler needs a `Command` filter or a
dialogue `State` cannot take a message that is none of those commands, sent outside those
states, so it is not asked. Filters are taken to be free of side effects, as aiogram's
short-circuit checking already takes them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.state import State
from aiogram.types import Message, TelegramObject

Propagate = Callable[..., Awaitable[Any]]


@dataclass
class MessageNeeds:
    """What a message must be for some router to take it: one of its commands (as aiogram's
    `Command` filters compare them) or sent in one of its dialogue states."""

    prefixes: str = ""
    # Command name -> whether every filter for it wants arguments (a deep link's payload).
    exact: dict[str, bool] = field(default_factory=dict)
    case_folded: dict[str, bool] = field(default_factory=dict)
    states: set[str] = field(default_factory=set)

    def add_command(self, command: Command) -> None:
        self.prefixes += "".join(p for p in command.prefix if p not in self.prefixes)
        names = self.case_folded if command.ignore_case else self.exact
        wants_arguments = isinstance(command, CommandStart) and command.deep_link is True
        for name in command.commands:
            names[str(name)] = names.get(str(name), True) and wants_arguments

    def may_take(self, event: TelegramObject, data: dict[str, Any]) -> bool:
        """False only when no handler of the router could take `event`."""
        if not isinstance(event, Message) or "raw_state" not in data:
            return True  # not what the gate was built for: let the router decide
        return data["raw_state"] in self.states or self._is_command(event)

    def _is_command(self, message: Message) -> bool:
        parsed = command_of(message)
        if parsed is None or parsed[0] not in self.prefixes:
            return False
        _, name, has_arguments = parsed
        wants_arguments = self.exact.get(name)
        if wants_arguments is None and self.case_folded:
            wants_arguments = self.case_folded.get(name.casefold())
        return wants_arguments is not None and (not wants_arguments or has_arguments)


# The message last parsed and its command: every gate a message passes asks for the same.
_last_parsed: tuple[Message | None, tuple[str, str, bool] | None] = (None, None)


def command_of(message: Message) -> tuple[str, str, bool] | None:
    """(prefix, name, whether arguments follow) of a message that may be a command, parsed as
    aiogram's `Command` parses it (the mention, which only ever rejects, is left out)."""
    global _last_parsed
    last, parsed = _last_parsed
    if last is message:
        return parsed
    text = message.text or message.caption
    parts = text.split(maxsplit=1) if text else None
    parsed = (parts[0][0], parts[0][1:].partition("@")[0], len(parts) > 1) if parts else None
    _last_parsed = (message, parsed)
    return parsed


def gate_message_routers(router: Router) -> int:
    """Skip, for messages, each sub-router of `router` (at any depth) that only takes some
    commands or dialogue states, unless the message may be one; returns how many are gated.
    Call before `check_filters_on_loop`, which hides the `State` filters."""
    gated = 0
    for sub_router in router.sub_routers:
        needs = message_needs(sub_router)
        if needs is None:
            gated += gate_message_routers(sub_router)
        else:
            _gate(sub_router, needs)
            gated += 1
    return gated


def message_needs(router: Router) -> MessageNeeds | None:
    """What `router` and its sub-routers need of a message, if every message handler among
    them needs a command or a state (and no message middleware sees it first); else None."""
    needs = MessageNeeds()
    for each in router.chain_tail:
        observer = each.message
        if len(observer.outer_middleware):
            return None
        for handler in observer.handlers:
            if not _add_need(handler, needs):
                return None
    return needs


def _add_need(handler: HandlerObject, needs: MessageNeeds) -> bool:
    """Add the first command or state `handler` needs (every filter must pass, so any one of
    them is a sound gate); False if it needs neither."""
    for event_filter in handler.filters or ():
        check = event_filter.callback
        if isinstance(check, Command) and all(isinstance(c, str) for c in check.commands):
            needs.add_command(check)
            return True
        states = _concrete_states(check)
        if states:
            needs.states.update(states)
            return True
    return False


def _concrete_states(check: object) -> list[str] | None:
    """The dialogue states a `State` or `StateFilter` passes in; None if it may pass outside
    any dialogue or in any state."""
    if isinstance(check, State):
        candidates: tuple[object, ...] = (check,)
    elif isinstance(check, StateFilter):
        candidates = tuple(check.states)
    else:
        return None
    names = []
    for candidate in candidates:
        name = candidate.state if isinstance(candidate, State) else candidate
        if not isinstance(name, str) or name == "*":
            return None  # no state, any state, or a whole StatesGroup
        names.append(name)
    return names


def _gate(router: Router, needs: MessageNeeds) -> None:
    propagate: Propagate = router.propagate_event

    async def propagate_if_needed(update_type: str, event: TelegramObject, **data: Any) -> Any:
        if update_type == "message" and not needs.may_take(event, data):
            return UNHANDLED
        return await propagate(update_type=update_type, event=event, **data)

    # The parent router calls this by name for every update: the instance's own wins.
    router.propagate_event = propagate_if_needed  # type: ignore[method-assign]
