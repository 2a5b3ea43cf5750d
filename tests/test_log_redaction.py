"""Logs never quote what aiogram failed to parse: names, usernames and texts stay out of them."""

from __future__ import annotations

import io
import logging

import aiohttp
from aiogram.exceptions import ClientDecodeError

from bot.log_redaction import RedactingFormatter
from bot.sandbox.driver import TelegramUser
from bot.sandbox.runtime import Sandbox

FIRST_NAME = "Zmitrok"
USERNAME = "zmitrok_from_hrodna"
TEXT = "Where do I register a bakery near the Neman?"


def person(sandbox: Sandbox) -> TelegramUser:
    """Someone whose name, username and words must never reach a log."""
    return TelegramUser(
        sandbox.api, sandbox.api.add_user(2**32 + 4242, FIRST_NAME, "en", USERNAME)
    )


def assert_nothing_personal(logs: str) -> None:
    for secret in (FIRST_NAME, USERNAME, "bakery", "Neman"):
        assert secret.casefold() not in logs.casefold()


def broken_update(sandbox: Sandbox, someone: TelegramUser) -> dict[str, object]:
    """A message update without its required date: aiogram's validation refuses it."""
    body = sandbox.api.message_update(someone.user, someone.chat, {"text": TEXT})
    message = body["message"]
    del message["date"]
    # The text goes last, where pydantic's shortened quote of the input still shows it.
    message["text"] = message.pop("text")
    return body


async def test_a_reply_aiogram_cannot_parse_is_logged_without_its_content(
    running: Sandbox, captured_logs: io.StringIO
) -> None:
    someone = person(running)
    running.api.garble_next("sendMessage")
    await someone.send("/help")  # a reply whose answer aiogram reads (the garbled one echoes
    # the chat, with the person's name and username)
    logs = captured_logs.getvalue()
    assert_nothing_personal(logs)
    assert "ClientDecodeError in sendMessage (content withheld)" in logs
    assert "is handled" in logs
    assert "Sorry, something went wrong" in someone.last_text  # the bot carried on


async def test_a_garbled_answer_to_a_reply_nobody_reads_is_no_error(
    running: Sandbox, captured_logs: io.StringIO
) -> None:
    someone = person(running)
    running.api.garble_next("sendMessage")
    await someone.send(f"/ask {TEXT}")  # the guide's answer goes unread (bot/unread.py)
    logs = captured_logs.getvalue()
    assert_nothing_personal(logs)
    assert "ClientDecodeError" not in logs
    assert "is handled" in logs
    assert len(someone.bot_messages) == 1  # the answer, and no apology after it
    assert "Sorry, something went wrong" not in someone.last_text


async def test_a_polled_update_that_fails_validation_is_logged_without_its_content(
    running: Sandbox, captured_logs: io.StringIO
) -> None:
    someone = person(running)
    broken = await running.api.push_update(broken_update(running, someone))
    await running.user(language_code="en").send("/start")  # answered after the skipped one
    await running.api.wait_processed(broken)
    await running.stop_bot()
    logs = captured_logs.getvalue()
    assert_nothing_personal(logs)
    assert "it could not be read (1 skipped so far)" in logs


async def test_a_webhook_update_that_fails_validation_is_logged_without_its_content(
    sandbox: Sandbox, captured_logs: io.StringIO
) -> None:
    await sandbox.start_bot(webhook=True)
    assert sandbox.api.webhook_url is not None
    assert sandbox.api.webhook_secret is not None
    update = {"update_id": 7, **broken_update(sandbox, person(sandbox))}
    headers = {"X-Telegram-Bot-Api-Secret-Token": sandbox.api.webhook_secret}
    async with (
        aiohttp.ClientSession() as http,
        http.post(sandbox.api.webhook_url, json=update, headers=headers) as response,
    ):
        assert response.status == 200  # acknowledged and skipped, so Telegram stops resending
    logs = captured_logs.getvalue()
    assert_nothing_personal(logs)
    assert "Skipped update 7: it could not be read" in logs


def format_record(name: str, msg: str, *args: object, error: BaseException | None = None) -> str:
    exc_info = (type(error), error, error.__traceback__) if error is not None else None
    record = logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, exc_info)
    return RedactingFormatter("%(name)s: %(message)s").format(record)


def test_an_unknown_aiogram_line_is_withheld_and_known_ones_are_kept() -> None:
    new_line = format_record("aiogram.scene", "Push state=%s data=%s", "s", {"name": FIRST_NAME})
    assert FIRST_NAME not in new_line
    assert "withheld" in new_line
    polling = format_record(
        "aiogram.dispatcher", "Run polling for bot @%s id=%d - %r", "b", 1, "B"
    )
    assert polling == "aiogram.dispatcher: Run polling for bot @b id=1 - 'B'"


def test_our_own_lines_keep_their_words_but_never_quote_parsed_content() -> None:
    assert format_record("bot.app", "Digest for %s posted", "November").endswith("November posted")
    error = ClientDecodeError("Failed to deserialize object", ValueError(), {"first": FIRST_NAME})
    line = format_record("handlers.errors", "Unhandled %s", "ClientDecodeError", error=error)
    assert FIRST_NAME not in line
    assert line == "handlers.errors: ClientDecodeError in an unknown call (content withheld)"
    assert format_record("bot.app", "user 6100040001 says hi") == "bot.app: user <id> says hi"
