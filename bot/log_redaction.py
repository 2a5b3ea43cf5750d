"""Logging that can never carry a Telegram id, a name or a message's text.

Digit runs are masked in every record. aiogram also logs the content of a reply or an update it
fails to parse (names, usernames, texts), so at the handler boundary such records are cut down
to the error's class and the Bot API method it came from.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from types import TracebackType

from aiogram.exceptions import ClientDecodeError
from aiogram.methods import TelegramMethod
from pydantic import ValidationError

from services.privacy import mask_long_numbers

# Update ids and counts are masked too, which costs little and keeps the rule easy to trust.
redact = mask_long_numbers

# aiogram's own lines that carry no content (its templates, read in aiogram 3.31); any other
# line from an aiogram logger is cut down, so a new one in a later version cannot leak.
CONTENT_FREE_AIOGRAM_LINES = frozenset(
    {
        "Update id=%s is %s. Duration %d ms by bot id=%d",
        "Sleep for %f seconds and try again... (tryings = %d, bot id = %d)",
        "Connection established (tryings = %d, bot id = %d)",
        "Run polling for bot @%s id=%d - %r",
        "Polling stopped for bot @%s id=%d - %r",
        "Start polling",
        "Polling stopped",
        "Received %s signal",
        "Answer to callback query id=%s",
        "Blocking request from an unauthorized IP: %s",
    }
)
# Errors whose message quotes the data they failed to parse, whichever logger reports them.
CONTENT_QUOTING_ERRORS = (ClientDecodeError, ValidationError)


def without_content(record: logging.LogRecord) -> logging.LogRecord:
    """The record itself, or a copy cut to its error class and method if it may carry content."""
    error = _error_of(record)
    from_aiogram = record.name == "aiogram" or record.name.startswith("aiogram.")
    if from_aiogram and isinstance(record.msg, str) and record.msg in CONTENT_FREE_AIOGRAM_LINES:
        return record
    if not from_aiogram and not (error is not None and _quotes_content(error)):
        return record
    reduced = logging.makeLogRecord(record.__dict__)
    if error is None:
        reduced.msg, reduced.args = "aiogram record withheld: it may quote a message", None
    else:
        reduced.msg = "%s in %s (content withheld)"
        reduced.args = (type(error).__name__, _failed_call(error))
    reduced.exc_info = reduced.exc_text = reduced.stack_info = None
    return reduced


class RedactingFormatter(logging.Formatter):
    """Formats as usual, without parsed content, then masks digit runs (tracebacks too)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(without_content(record)))


def setup_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Its INFO lines ("Adding job tentatively", "Running job") say nothing an operator needs.
    logging.getLogger("apscheduler").setLevel(max(level, logging.WARNING))
    # One INFO line per update ("Update id=... is handled", "Answer to callback query") costs
    # a formatted, redacted record on the hot path; their errors (logged at ERROR) still show.
    for per_update in ("aiogram.event", "aiogram.middlewares"):
        logging.getLogger(per_update).setLevel(max(level, logging.WARNING))


def _error_of(record: logging.LogRecord) -> BaseException | None:
    """The exception a record reports: its exc_info, or one passed as an argument."""
    if record.exc_info and record.exc_info[1] is not None:
        return record.exc_info[1]
    args = record.args.values() if isinstance(record.args, dict) else (record.args or ())
    return next((arg for arg in args if isinstance(arg, BaseException)), None)


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _quotes_content(error: BaseException) -> bool:
    return any(isinstance(link, CONTENT_QUOTING_ERRORS) for link in _chain(error))


def _failed_call(error: BaseException) -> str:
    """The Bot API method being called when `error` happened, or what failed to parse."""
    for link in _chain(error):
        method = getattr(link, "method", None)
        if isinstance(method, TelegramMethod):
            return method.__api_method__
    for link in _chain(error):
        for method in _methods_in_frames(link.__traceback__):
            return method.__api_method__
    for link in _chain(error):
        if isinstance(link, ValidationError):
            return link.title  # the model that did not validate, such as "Update"
    return "an unknown call"


def _methods_in_frames(traceback: TracebackType | None) -> Iterator[TelegramMethod[object]]:
    """Bot API methods held by the frames a traceback passed through, innermost first."""
    found = []
    while traceback is not None:
        method = traceback.tb_frame.f_locals.get("method")
        if isinstance(method, TelegramMethod):
            found.append(method)
        traceback = traceback.tb_next
    return reversed(found)
