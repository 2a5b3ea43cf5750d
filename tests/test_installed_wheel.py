"""The built wheel, installed with the lock into a clean venv, serves from /data-style paths.

This is the contract the Docker image relies on (no container engine runs on CI machines):
no source tree on the path, the guide and catalogs found as package data, the database where
DATABASE_URL says, and `vyraj health` healthy while the bot runs.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.sandbox.driver import TelegramUser
from bot.sandbox.runtime import Sandbox

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_SOURCES = ["bot", "handlers", "services", "storage", "knowledge", "locales"]


def run(*command: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def build_wheel(workdir: Path) -> Path:
    """Build from a copy of the sources, so no stale build/ folder can leak into the wheel."""
    source = workdir / "source"
    for name in PACKAGE_SOURCES:
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ["pyproject.toml", "README.md"]:
        shutil.copy(ROOT / name, source / name)
    dist = workdir / "dist"
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
        "--wheel-dir", dist, source)  # fmt: skip
    (wheel,) = dist.glob("vyraj-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed_vyraj(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the locked dependencies and the wheel; returns its bin/ folder."""
    workdir = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(workdir)
    venv = workdir / "venv"
    run(sys.executable, "-m", "venv", venv)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet"]
    run(*pip, "--require-hashes", "-r", ROOT / "requirements.lock")
    run(*pip, "--no-deps", wheel)
    return venv / "bin"


async def wait_until(condition: Callable[[], bool], seconds: float = 60) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.1)


def texts(user: TelegramUser) -> list[str]:
    return [str(message.get("text", "")) for message in user.bot_messages]


async def test_installed_wheel_serves_from_a_data_folder(
    installed_vyraj: Path, sandbox: Sandbox, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = run(installed_vyraj / "python", "-c", "import bot; print(bot.__file__)", cwd=elsewhere)
    assert Path(where.strip()).is_relative_to(installed_vyraj.parent)

    database = tmp_path / "data" / "vyraj.sqlite3"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "BOT_TOKEN": sandbox.api.token,
        "TELEGRAM_API_URL": sandbox.api_url,
        "DATABASE_URL": f"sqlite:///{database}",  # sqlite:////tmp/.../data/vyraj.sqlite3
        "SECRET_KEY": sandbox.secret_key,
        "DEFAULT_LOCALE": "en",
    }
    process = await asyncio.create_subprocess_exec(
        installed_vyraj / "vyraj",
        "run",
        cwd=elsewhere,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        user = sandbox.user(language_code="ru")
        await sandbox.api.push_update(
            sandbox.api.message_update(user.user, user.chat, {"text": "/start"})
        )
        await wait_until(lambda: any("Привет! Я Vyraj" in text for text in texts(user)))
        await sandbox.api.push_update(
            sandbox.api.message_update(user.user, user.chat, {"text": "карта побыту MOS"})
        )
        await wait_until(lambda: any("Карта побыту" in text for text in texts(user)))
        assert "Источники" in texts(user)[-1]

        health = await asyncio.create_subprocess_exec(
            installed_vyraj / "vyraj", "health", cwd=elsewhere, env=env,
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await health.communicate()
        assert health.returncode == 0, out
        assert out.decode().startswith("healthy")
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    assert database.exists()
    assert not (database.parent / "vyraj.sqlite3.key").exists()  # SECRET_KEY came from the env
    assert list(elsewhere.iterdir()) == []  # nothing written beside the working directory
