from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.i18n import compile_catalogs
from bot.log_redaction import RedactingFormatter
from bot.sandbox.runtime import Sandbox, open_sandbox


@pytest.fixture(scope="session", autouse=True)
def _compiled_catalogs() -> None:
    compile_catalogs()


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    """The local Bot API server on loopback with a fresh database; the bot not yet started."""
    async with open_sandbox(tmp_path / "vyraj.sqlite3") as box:
        yield box


@pytest.fixture
async def running(sandbox: Sandbox) -> Sandbox:
    """The sandbox with the bot long-polling it."""
    await sandbox.start_bot()
    return sandbox


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything logged, formatted exactly as `vyraj run` formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
