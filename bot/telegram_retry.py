"""Telegram calls made at start: transient failures are retried within a time budget, a
rejected token fails at once, and every failure becomes one line."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from bot.log_redaction import redact

T = TypeVar("T")

EXIT_FAILURE = 1
EXIT_CONFIG = 2
# Each group of start-up calls (reaching Telegram; then the menu and webhook) gives up after this,
# so a failing start ends within seconds and a restart policy can take over.
START_BUDGET_SECONDS = 5.0
_FIRST_DELAY = 0.2
_MAX_DELAY = 1.6


class StartupError(Exception):
    """Start-up cannot go on; the message is one line for the operator."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class StartBudget:
    """The moment by which a group of start-up calls must have succeeded or given up."""

    deadline: float

    @classmethod
    def from_now(cls, seconds: float = START_BUDGET_SECONDS) -> StartBudget:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


async def call_telegram(
    budget: StartBudget, call: Callable[[], Awaitable[T]], *, api_url: str, token: str
) -> T:
    """`call()`, retried with backoff on 429, 5xx, network errors and non-JSON replies."""
    delay = _FIRST_DELAY
    while True:
        try:
            async with asyncio.timeout(max(budget.remaining(), 0.0)):
                return await call()
        except TimeoutError:
            cause = "no answer in time"
            wait = budget.remaining()
        except (TelegramUnauthorizedError, TelegramNotFound) as exc:
            raise StartupError(
                f"BOT_TOKEN: rejected by {api_url} ({exc.message}); copy the token from "
                "@BotFather again",
                EXIT_CONFIG,
            ) from None
        except TelegramRetryAfter as exc:
            cause, wait = (
                f"429 Too Many Requests, retry after {exc.retry_after} s",
                exc.retry_after,
            )
        except TelegramServerError as exc:
            cause, wait = f"server error: {exc.message}", delay
        except TelegramNetworkError as exc:
            cause, wait = exc.message, delay
        except ClientDecodeError:
            cause, wait = "the reply is not the Bot API's JSON", delay
        except TelegramAPIError as exc:
            raise StartupError(
                f"Telegram refused {exc.method.__api_method__}: {_clean(exc.message, token)}"
            ) from None
        if wait >= budget.remaining():
            raise StartupError(
                f"TELEGRAM_API_URL: {api_url} did not answer properly within "
                f"{START_BUDGET_SECONDS:g} s of starting ({_clean(cause, token)})"
            )
        await asyncio.sleep(wait)
        delay = min(delay * 2, _MAX_DELAY)


def _clean(message: str, token: str) -> str:
    """One line, with no token and no long numbers in it."""
    return redact(" ".join(message.replace(token, "<token>").split()))
