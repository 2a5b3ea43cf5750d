"""A throw-away redis-server on a unix socket in a temp folder, persistence off, stopped by
its own pid on every path."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

START_TIMEOUT = 10.0


@dataclass(frozen=True)
class RedisServer:
    socket: Path

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"


def redis_server_binary() -> str:
    """The redis-server on PATH; a test without one is skipped, or fails when CI is set."""
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return binary


@contextlib.contextmanager
def running_redis(folder: Path) -> Iterator[RedisServer]:
    """Start redis-server in `folder`, wait until it answers PING, stop it afterwards."""
    socket = folder / "redis.sock"
    process = subprocess.Popen(
        [
            redis_server_binary(),
            "--port", "0",
            "--unixsocket", str(socket),
            "--unixsocketperm", "700",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(folder),
            "--logfile", str(folder / "redis.log"),
        ],
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_answering(socket, process)
        yield RedisServer(socket)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_answering(socket: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}")
        if socket.exists():
            with (
                contextlib.suppress(redis.ConnectionError),
                redis.Redis(unix_socket_path=str(socket)) as client,
            ):
                if client.ping():
                    return
        if time.monotonic() > deadline:
            raise TimeoutError("redis-server did not answer PING")
        time.sleep(0.01)
