"""No Telegram user id reaches PostgreSQL in any encoding: not its data files, not `pg_wal`,
not `pg_dump`, not the server's log; every flow of the bot exercised against it."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from bot.sandbox.runtime import Sandbox, open_sandbox
from services.clock import ManualClock
from tests.servers.postgres import PostgresCluster
from tests.test_privacy_scan import exercise_every_flow, find_ids


@pytest.fixture
async def postgres_sandbox(
    postgres_cluster: PostgresCluster, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[tuple[Sandbox, str]]:
    url = await postgres_cluster.fresh_database()
    async with open_sandbox(tmp_path / "unused.sqlite3", clock, database_url=url) as sandbox:
        yield sandbox, url


def leaks_in_files(paths: list[Path], user_ids: list[int]) -> list[str]:
    """File by file, so that memory holds one at a time."""
    return [
        f"{path}: {leak}"
        for path in paths
        if path.is_file()
        for leak in find_ids(path.read_bytes(), user_ids)
    ]


def cluster_files(cluster: PostgresCluster, database_oid: int) -> list[Path]:
    """This database's files, the shared catalogs, the WAL and the server's log."""
    folders = [cluster.data / "base" / str(database_oid), cluster.data / "global"]
    folders.append(cluster.data / "pg_wal")
    files = [path for folder in folders for path in folder.rglob("*")]
    return [*files, cluster.folder / "log"]


async def test_postgres_files_wal_dump_and_logs_hold_no_user_id(
    postgres_sandbox: tuple[Sandbox, str],
    postgres_cluster: PostgresCluster,
    captured_logs: io.StringIO,
) -> None:
    sandbox, url = postgres_sandbox
    await sandbox.start_bot()
    user_ids = await exercise_every_flow(sandbox)
    await sandbox.stop_bot()

    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CHECKPOINT")  # every change is in the data files too, not only WAL
        oid = int(
            await conn.fetchval("SELECT oid FROM pg_database WHERE datname = current_database()")
        )
        assert await conn.fetchval("SELECT count(*) FROM survey_answer_sets") > 0
    finally:
        await conn.close()
    files = cluster_files(postgres_cluster, oid)
    assert any(path.parent.name == "pg_wal" for path in files)
    assert await asyncio.to_thread(leaks_in_files, files, user_ids) == []

    dump = await asyncio.create_subprocess_exec(
        str(postgres_cluster.bindir / "pg_dump"),
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    dumped, errors = await asyncio.wait_for(dump.communicate(), 120)
    assert dump.returncode == 0, errors.decode()
    assert b"survey_answer_sets" in dumped
    assert find_ids(dumped, user_ids) == []
    assert find_ids(captured_logs.getvalue().encode(), user_ids) == []


async def test_the_postgres_scan_would_notice_a_leak(postgres_cluster: PostgresCluster) -> None:
    user_id = 2**32 + 99
    url = await postgres_cluster.fresh_database()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("INSERT INTO meta VALUES ('leak', $1)", str(user_id))
        await conn.execute("CHECKPOINT")
        oid = int(
            await conn.fetchval("SELECT oid FROM pg_database WHERE datname = current_database()")
        )
    finally:
        await conn.close()
    leaks = await asyncio.to_thread(
        leaks_in_files, cluster_files(postgres_cluster, oid), [user_id]
    )
    assert any("/base/" in leak for leak in leaks)
    assert any("/pg_wal/" in leak for leak in leaks)
