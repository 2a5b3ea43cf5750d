from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import compile_catalogs
from bot.log_redaction import RedactingFormatter
from bot.sandbox.runtime import Sandbox, open_sandbox
from services.clock import ManualClock
from tests.servers.postgres import PostgresCluster, running_cluster
from tests.servers.redis import RedisServer, running_redis

WARSAW = ZoneInfo("Europe/Warsaw")  # TIMEZONE's default
# An ordinary weekday afternoon: where every test's clock stands unless it is pinned.
ORDINARY_INSTANT = dt.datetime(2026, 11, 18, 14, 30, tzinfo=WARSAW)
# Where date-sensitive tests (marked `pinned_instants`) run, each in turn.
PINNED_INSTANTS = {
    "4th": dt.datetime(2026, 12, 4, 12, 0, tzinfo=WARSAW),
    "14th": dt.datetime(2027, 1, 14, 9, 0, tzinfo=WARSAW),
    "24th": dt.datetime(2026, 11, 24, 4, 0, tzinfo=WARSAW),
    "23:59-local": dt.datetime(2026, 12, 31, 23, 59, tzinfo=WARSAW),
    "00:00-local": dt.datetime(2027, 1, 1, 0, 0, tzinfo=WARSAW),
    "before-spring-dst": dt.datetime(2026, 3, 29, 1, 59, tzinfo=WARSAW),
    "after-spring-dst": dt.datetime(2026, 3, 29, 3, 0, tzinfo=WARSAW),
    "autumn-dst-first-02:30": dt.datetime(2026, 10, 25, 2, 30, tzinfo=WARSAW),
    "autumn-dst-second-02:30": dt.datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=WARSAW),
    "29-february": dt.datetime(2028, 2, 29, 12, 0, tzinfo=WARSAW),
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "pinned_instants: run the test at every instant in PINNED_INSTANTS"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("pinned_instants"):
        metafunc.parametrize("instant", list(PINNED_INSTANTS.values()), ids=list(PINNED_INSTANTS))


@pytest.fixture
def instant() -> dt.datetime:
    """The instant the test's clock starts at (parametrised by `pinned_instants`)."""
    return ORDINARY_INSTANT


@pytest.fixture
def clock(instant: dt.datetime) -> ManualClock:
    return ManualClock(instant)


@pytest.fixture(scope="session", autouse=True)
def _compiled_catalogs() -> None:
    compile_catalogs()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A throw-away PostgreSQL cluster for the whole run; each test makes its own database."""
    with running_cluster() as cluster:
        asyncio.run(cluster.create_template())
        yield cluster


@pytest.fixture
async def sandbox(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Sandbox]:
    """The local Bot API server on loopback with a fresh database; the bot not yet started.
    Bot and server read the test's `clock`."""
    async with open_sandbox(tmp_path / "vyraj.sqlite3", clock) as box:
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


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A redis-server of the test's own on a unix socket, persistence off (in a short temp
    path: a socket's path is limited to about 100 bytes)."""
    with (
        tempfile.TemporaryDirectory(prefix="redis-") as folder,
        running_redis(Path(folder)) as server,
    ):
        yield server
