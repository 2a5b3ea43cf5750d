"""`vyraj health` on PostgreSQL, through the real command: the server answers a read-only
query within a short timeout, and the instance's heartbeat file is there."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.runtime import Sandbox, open_sandbox
from services.clock import ManualClock
from tests.servers.postgres import PostgresCluster
from tests.test_startup_failures import vyraj


@pytest.fixture
async def postgres_sandbox(
    postgres_cluster: PostgresCluster, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[Sandbox]:
    url = await postgres_cluster.fresh_database()
    async with open_sandbox(tmp_path / "unused.sqlite3", clock, database_url=url) as sandbox:
        yield sandbox


def health_env(sandbox: Sandbox, **overrides: str) -> dict[str, str]:
    """The environment of the running bot's own container."""
    settings = sandbox.settings()
    env = {
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": sandbox.secret_key,
        "KEY_VAULT_DIR": str(settings.key_vault_dir),
        "HEARTBEAT_FILE": str(settings.heartbeat_path),
    }
    return {**env, **overrides}


async def test_a_serving_bot_on_postgres_is_healthy(
    postgres_sandbox: Sandbox, tmp_path: Path
) -> None:
    await postgres_sandbox.start_bot()
    finished = await vyraj(tmp_path / "work", "health", **health_env(postgres_sandbox))
    assert (finished.code, finished.stderr) == (0, "")
    assert finished.stdout.startswith("healthy: the database opens, last Bot API call")
    assert len(finished.stdout.splitlines()) == 1


async def test_without_a_heartbeat_it_is_unhealthy(
    postgres_sandbox: Sandbox, tmp_path: Path
) -> None:
    finished = await vyraj(tmp_path / "work", "health", **health_env(postgres_sandbox))
    assert finished.code == 1
    assert finished.stdout == "unhealthy: no successful Bot API call yet\n"


async def test_a_server_that_is_down_is_unhealthy_in_one_line(
    postgres_sandbox: Sandbox, tmp_path: Path
) -> None:
    heartbeat = postgres_sandbox.settings().heartbeat_path
    heartbeat.touch()  # the bot reached Telegram lately, but its database is gone
    empty = tmp_path / "no-server"
    empty.mkdir()
    url = f"postgresql://vyraj:hunter2@/vyraj?host={empty}"
    finished = await vyraj(
        tmp_path / "work", "health", **health_env(postgres_sandbox, DATABASE_URL=url)
    )
    assert finished.code == 1
    assert finished.stdout.startswith(f"unhealthy: the database at vyraj@{empty}")
    assert "does not answer" in finished.stdout
    assert len(finished.stdout.splitlines()) == 1
    assert "hunter2" not in finished.stdout + finished.stderr


async def test_a_server_that_never_answers_is_unhealthy_after_the_timeout(
    postgres_sandbox: Sandbox, tmp_path: Path
) -> None:
    postgres_sandbox.settings().heartbeat_path.touch()

    async def accept_and_say_nothing(
        _: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        accepted.append(writer)  # held open, never answered, closed at the end

    accepted: list[asyncio.StreamWriter] = []
    server = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        url = f"postgresql://vyraj@127.0.0.1:{port}/vyraj"
        finished = await vyraj(
            tmp_path / "work", "health", **health_env(postgres_sandbox, DATABASE_URL=url)
        )
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
    assert finished.code == 1
    assert finished.stdout == (
        f"unhealthy: the database at vyraj@127.0.0.1:{port}/vyraj does not answer (TimeoutError)\n"
    )
    assert accepted  # it did connect: the timeout, not a refusal, ended the check
