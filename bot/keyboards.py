"""Inline keyboards built in one pass.

aiogram's `InlineKeyboardBuilder.button()` copies the whole keyboard on every call, so a keyboard
of n buttons costs O(n²); here the buttons are made once and cut into rows once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from pydantic import PrivateAttr

# Telegram's limits, as aiogram's builder checks them.
MAX_ROW_WIDTH = 8
MAX_BUTTONS = 100


def callback_button(text: str, callback_data: CallbackData | str) -> InlineKeyboardButton:
    """A button that sends `callback_data` (packed here if typed) when pressed."""
    if isinstance(callback_data, CallbackData):
        callback_data = callback_data.pack()
    return InlineKeyboardButton(text=text, callback_data=callback_data)


def url_button(text: str, url: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, url=url)


def inline_keyboard(buttons: Iterable[InlineKeyboardButton], *widths: int) -> InlineKeyboardMarkup:
    """The buttons in rows of `widths`, the last width repeating for the rest (the layout of
    aiogram's `builder.adjust(*widths)`); rows of up to 8 when no width is given."""
    return InlineKeyboardMarkup(inline_keyboard=rows(list(buttons), widths or (MAX_ROW_WIDTH,)))


class SharedKeyboard(InlineKeyboardMarkup):
    """A keyboard that is everyone's (nobody's choices in it), built once and kept; its wire
    form, what a Bot API call carries, is worked out once with it, not on every call."""

    _wire: dict[str, Any] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        super().model_post_init(context)
        # aiogram's preparation drops the unset (None) fields, button by button.
        self._wire = self.model_dump(exclude_none=True)

    def wire_form(self) -> dict[str, Any]:
        """The keyboard as the Bot API call's JSON holds it (not to be changed)."""
        return self._wire


def shared_keyboard(buttons: Iterable[InlineKeyboardButton], *widths: int) -> SharedKeyboard:
    """`inline_keyboard`, for a keyboard kept and shown to many people."""
    return SharedKeyboard(inline_keyboard=rows(list(buttons), widths or (MAX_ROW_WIDTH,)))


def rows(
    buttons: list[InlineKeyboardButton], widths: tuple[int, ...]
) -> list[list[InlineKeyboardButton]]:
    if len(buttons) > MAX_BUTTONS:
        raise ValueError(f"a keyboard holds at most {MAX_BUTTONS} buttons, not {len(buttons)}")
    for width in widths:
        if not 1 <= width <= MAX_ROW_WIDTH:
            raise ValueError(f"row width {width} is not between 1 and {MAX_ROW_WIDTH}")
    cut: list[list[InlineKeyboardButton]] = []
    start = 0
    for width in _repeat_last(widths):
        if start >= len(buttons):
            break
        cut.append(buttons[start : start + width])
        start += width
    return cut


def _repeat_last(widths: tuple[int, ...]) -> Iterator[int]:
    yield from widths
    while True:
        yield widths[-1]
