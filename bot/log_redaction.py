"""Logging that can never carry a Telegram id: long digit runs are masked in every record."""

from __future__ import annotations

import logging

from services.privacy import mask_long_numbers

# Update ids and counts are masked too, which costs little and keeps the rule easy to trust.
redact = mask_long_numbers


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then masks digit runs (messages, arguments and tracebacks alike)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Its INFO lines ("Adding job tentatively", "Running job") say nothing an operator needs.
    logging.getLogger("apscheduler").setLevel(max(level, logging.WARNING))
