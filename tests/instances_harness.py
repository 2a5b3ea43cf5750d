"""Two real `vyraj run` processes behind one webhook URL, sharing PostgreSQL and Redis: the
local Bot API server (in the test process) spreads updates round-robin between them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from bot.sandbox.runtime import Sandbox, free_port

ROOT = Path(__file__).resolve().parent.parent
LISTENING = "Webhook server listening on"
UP = "Vyraj is up"  # logged once the start-up work (due digest, broadcast resumed) is done
START_TIMEOUT = 90.0  # two interpreters importing aiogram on a shared, busy machine


@dataclass
class Instance:
    """One `vyraj run` process and what it logged so far."""

    name: str
    url: str  # where the local server posts this instance's share of the updates
    process: asyncio.subprocess.Process
    log: list[str] = field(default_factory=list)
    listening: asyncio.Event = field(default_factory=asyncio.Event)
    up: asyncio.Event = field(default_factory=asyncio.Event)
    reader: asyncio.Task[None] | None = None
    _new_line: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def read_log(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            line = raw.decode(errors="replace")
            self.log.append(line)
            if LISTENING in line:
                self.listening.set()
            if UP in line:
                self.up.set()
            async with self._new_line:
                self._new_line.notify_all()

    async def wait_logged(self, text: str, timeout: float = 60.0) -> None:
        """Return once the process has logged a line holding `text`."""
        async with self._new_line:
            await asyncio.wait_for(
                self._new_line.wait_for(lambda: any(text in line for line in self.log)), timeout
            )

    def kill(self) -> None:
        """SIGKILL, by this process's own pid."""
        if self.process.returncode is None:
            os.kill(self.process.pid, signal.SIGKILL)

    async def stop(self) -> None:
        """SIGTERM and wait; SIGKILL if it does not stop in time."""
        if self.process.returncode is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.kill()
                await self.process.wait()
        if self.reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self.reader, 10)


@dataclass
class Deployment:
    sandbox: Sandbox
    instances: list[Instance]

    def by_url(self, url: str) -> Instance:
        return next(instance for instance in self.instances if instance.url == url)

    def log(self) -> str:
        return "".join(line for instance in self.instances for line in instance.log)


def environment(
    sandbox: Sandbox, database_url: str, redis_url: str, vault: Path, public_url: str, port: int
) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": sandbox.api.token,
        "TELEGRAM_API_URL": sandbox.api_url,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": sandbox.secret_key,
        "KEY_VAULT_DIR": str(vault),
        "WEBHOOK_URL": public_url,
        "WEBHOOK_SECRET": "two-instances-secret",
        "WEBHOOK_LISTEN": f"127.0.0.1:{port}",
        "DEFAULT_LOCALE": "en",
        "MIN_CELL_SIZE": "5",
    }


@contextlib.asynccontextmanager
async def two_instances(
    sandbox: Sandbox,
    database_url: str,
    redis_url: str,
    folder: Path,
    **settings: str,
) -> AsyncIterator[Deployment]:
    """Start instances A and B together (A's listener stands for the public URL) and wait
    until both listen; both are stopped on every path."""
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{port}/webhook" for port in ports]
    vault = folder / "key-vault"
    vault.mkdir(mode=0o700)
    instances: list[Instance] = []
    try:
        for name, port, url in zip("AB", ports, urls, strict=True):
            cwd = folder / name
            cwd.mkdir()
            env = environment(sandbox, database_url, redis_url, vault, urls[0], port)
            env["HEARTBEAT_FILE"] = str(cwd / "vyraj.heartbeat")  # each container has its own
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                cwd=cwd,
                env={**env, **{key.upper(): value for key, value in settings.items()}},
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            instance = Instance(name, url, process)
            instance.reader = asyncio.create_task(instance.read_log())
            instances.append(instance)
        sandbox.api.extra_webhook_urls.append(urls[1])
        for instance in instances:
            waiter = asyncio.create_task(instance.listening.wait())
            exited = asyncio.create_task(instance.process.wait())
            done, _ = await asyncio.wait(
                {waiter, exited}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
            )
            waiter.cancel()
            exited.cancel()
            if waiter not in done:
                raise RuntimeError(f"instance {instance.name} did not start:\n{instance.log}")
        yield Deployment(sandbox, instances)
    finally:
        await asyncio.gather(*(instance.stop() for instance in instances))
