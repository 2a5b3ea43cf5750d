"""`/poll [census] [hidden] [multi] [revote] Question? | Option 1 | Option 2 ...` and close
times ("in 2 days", "2026-12-01")."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

MIN_OPTIONS = 2
MAX_OPTIONS = 12  # Telegram's limit for polls
MAX_OPTION = 100
MAX_QUESTION = 300
MAX_DAYS_OPEN = 90
MAX_OPEN = dt.timedelta(days=MAX_DAYS_OPEN)


class PollLineError(ValueError):
    """Why a /poll line was refused: one of the codes below, for a precise usage message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code  # format | too_few | too_many | option_too_long | question_too_long
        # | duplicate | close_time


@dataclass(frozen=True)
class PollDraft:
    question: str
    options: tuple[str, ...]
    census: bool = False
    multiple: bool = False
    close_at: dt.datetime | None = None
    hidden_counts: bool = False  # no counts shown until the poll closes
    revoting: bool = False  # a Telegram poll whose voters may change their answer


_FLAGS = {
    "census": "census",
    "перапіс": "census",
    "перепись": "census",
    "multi": "multiple",
    "hidden": "hidden",
    "схавана": "hidden",
    "скрыто": "hidden",
    "revote": "revoting",
    "пераабраць": "revoting",
    "переголосовать": "revoting",
}
_CLOSE = re.compile(r"^(?:close|закрыць|закрыть|⏰)\s*[:=]?\s*(.+)$", re.IGNORECASE)


def parse_poll_line(text: str, now: dt.datetime) -> PollDraft:
    """Parse the arguments of /poll; flags `census`, `hidden` (no counts until close), `multi`
    and `revote` (Telegram polls only) may come first; a last part `close: in 2 days` sets a
    close time."""
    words = text.strip().split(maxsplit=1)
    flags: set[str] = set()
    while words and words[0].casefold() in _FLAGS:
        flags.add(_FLAGS[words[0].casefold()])
        words = words[1].split(maxsplit=1) if len(words) > 1 else []
    census = "census" in flags
    parts = [" ".join(part.split()) for part in " ".join(words).split("|")]
    close_at = None
    if len(parts) > 1 and (match := _CLOSE.match(parts[-1])):
        close_at = parse_close_time(match.group(1), now)
        parts = parts[:-1]
    if len(parts) < 2 or not parts[0]:
        raise PollLineError("format" if len(parts) < 2 else "question_missing")
    question, options = parts[0], [option for option in parts[1:] if option]
    if len(question) > MAX_QUESTION:
        raise PollLineError("question_too_long")
    if len(options) < MIN_OPTIONS:
        raise PollLineError("too_few")
    if len(options) > MAX_OPTIONS:
        raise PollLineError("too_many")
    if any(len(option) > MAX_OPTION for option in options):
        raise PollLineError("option_too_long")
    if len({option.casefold() for option in options}) != len(options):
        raise PollLineError("duplicate")
    return PollDraft(
        question,
        tuple(options),
        census,
        "multiple" in flags,
        close_at,
        hidden_counts="hidden" in flags,
        revoting=not census and "revoting" in flags,  # a census vote can always be changed
    )


_UNITS = (
    (re.compile(r"^(?:d|day|days|д|дн|дня|дней|день|дзень|дні|дзён)$"), dt.timedelta(days=1)),
    (re.compile(r"^(?:h|hr|hour|hours|ч|час|часа|часов|гадз|гадзіна|гадзіны|гадзін)$"),
     dt.timedelta(hours=1)),
    (re.compile(r"^(?:m|min|mins|minute|minutes|мин|минут|минуты|хв|хвілін|хвіліны)$"),
     dt.timedelta(minutes=1)),
    (re.compile(r"^(?:w|week|weeks|нед|неделя|недели|недель|тыдзень|тыдні|тыдняў)$"),
     dt.timedelta(weeks=1)),
)  # fmt: skip
_RELATIVE = re.compile(r"^(?:in|через|праз)?\s*(\d{1,4})\s*([^\d\s.]+)\.?$", re.IGNORECASE)
_DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d", "%d.%m.%Y %H:%M", "%d.%m.%Y")


def parse_close_time(text: str, now: dt.datetime) -> dt.datetime:
    """A close time in the future, at most MAX_DAYS_OPEN away, in `now`'s time zone.

    Accepts "in 2 days", "3h", "через 2 дня", "праз 3 гадзіны", "2026-12-01" (the end of that
    day), "2026-12-01 18:00", "01.12.2026".
    """
    text = " ".join(text.strip().casefold().split())
    moment: dt.datetime | None = None
    if match := _RELATIVE.match(text):
        amount, unit = int(match.group(1)), match.group(2)
        step = next((size for pattern, size in _UNITS if pattern.match(unit)), None)
        if step is not None:
            # Elapsed time, not wall time: "in 2 hours" is two hours across a DST change too.
            moment = (now.astimezone(dt.UTC) + amount * step).astimezone(now.tzinfo)
    if moment is None:
        for pattern in _DATE_FORMATS:
            try:
                parsed = dt.datetime.strptime(text, pattern)
            except ValueError:
                continue
            if "%H" not in pattern:
                parsed = parsed.replace(hour=23, minute=59)
            moment = parsed.replace(tzinfo=now.tzinfo)
            break
    if moment is None or not dt.timedelta(0) < _elapsed(now, moment) <= MAX_OPEN:
        raise PollLineError("close_time")
    return moment


def _elapsed(start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    # Aware datetimes in one zone compare and subtract as wall times (an autumn 02:30 equals
    # the other 02:30); in UTC the difference is real.
    return end.astimezone(dt.UTC) - start.astimezone(dt.UTC)


_TOPIC_LINK = re.compile(
    r"^(?:https?://)?t\.me/(?:c/\d+|[A-Za-z][A-Za-z0-9_]{3,})/(\d{1,9})(?:/\d+)?/?$"
)


def parse_topic(text: str) -> int | None:
    """A forum topic's id from a link to it or to a message in it (`t.me/c/123/45/678`,
    `t.me/group/45`), or from its bare number; None if the text is neither."""
    text = text.strip()
    match = _TOPIC_LINK.match(text)
    number = match.group(1) if match else text
    return int(number) if number.isdigit() and 0 < int(number) < 10**9 else None
