"""`vyraj health`: healthy while the bot reaches the Bot API, unhealthy when stuck or broken."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from aiogram.exceptions import TelegramUnauthorizedError

from bot.app import create_bot
from bot.cli import main
from bot.health import HEALTHY_WITHIN_SECONDS, heartbeat_file_for
from bot.heartbeat import HeartbeatMiddleware
from bot.sandbox.runtime import Sandbox


@pytest.fixture
def health_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`vyraj health` reads the sandbox's database; no .env nor webhook from outside."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'vyraj.sqlite3'}")
    monkeypatch.delenv("WEBHOOK_URL", raising=False)


@pytest.mark.usefixtures("health_env")
async def test_serving_bot_is_healthy_until_its_heartbeat_is_old(
    running: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["health"]) == 0
    assert capsys.readouterr().out.startswith("healthy: the database opens")

    long_ago = time.time() - HEALTHY_WITHIN_SECONDS - 5
    os.utime(heartbeat_file_for(running.database_path), (long_ago, long_ago))
    assert main(["health"]) == 1
    assert "unhealthy: no successful Bot API call for" in capsys.readouterr().out


@pytest.mark.usefixtures("health_env")
def test_health_without_a_database_is_unhealthy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["health"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("unhealthy: the database does not open")
    assert len(out.splitlines()) == 1


async def test_heartbeat_follows_successful_calls_at_most_every_interval(
    sandbox: Sandbox,
) -> None:
    heartbeat = heartbeat_file_for(sandbox.database_path)
    wrong_token = create_bot(sandbox.settings(bot_token="42:not-the-sandbox-token"))
    wrong_token.session.middleware(HeartbeatMiddleware(heartbeat))
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await wrong_token.get_me()
    finally:
        await wrong_token.session.close()
    assert not heartbeat.exists()

    bot = create_bot(sandbox.settings())
    try:
        await bot.get_me()
        assert not heartbeat.exists()  # a bot that has not started serving keeps no heartbeat
        bot.session.middleware(HeartbeatMiddleware(heartbeat))
        await bot.get_me()
        assert heartbeat.exists()
        os.utime(heartbeat, (1000, 1000))
        await bot.get_me()  # within the interval: the file is left alone
        assert heartbeat.stat().st_mtime == 1000
    finally:
        await bot.session.close()
