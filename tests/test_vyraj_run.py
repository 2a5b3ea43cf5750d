"""`vyraj run` as a real process against the local Bot API server on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.sandbox.runtime import Sandbox

ROOT = Path(__file__).resolve().parent.parent


async def test_vyraj_run_answers_start_and_stops_cleanly(sandbox: Sandbox, tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": sandbox.api.token,
        "TELEGRAM_API_URL": sandbox.api_url,
        "DATABASE_URL": "sqlite:///data/vyraj.sqlite3",
        "DEFAULT_LOCALE": "en",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        user = sandbox.user(language_code="ru", user_id=2**33 + 5)
        update_id = await sandbox.api.push_update(
            sandbox.api.message_update(user.user, user.chat, {"text": "/start"})
        )
        # The subprocess's reply reaches the local server as a sendMessage call.
        await sandbox.api.wait_until(lambda: bool(user.bot_messages), timeout=60)
        assert "Привет! Я Vyraj" in user.last_text
        assert update_id > 0
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0
    log = stderr.decode()
    assert "generated a new one" in log  # SECRET_KEY unset: a key file was created, said once
    assert "sits in the database's folder, so a backup of that folder holds both" in log
    assert "Database closed" in log
    assert (tmp_path / "data" / "vyraj.sqlite3.key").stat().st_mode & 0o777 == 0o600
    assert str(2**33 + 5) not in log
