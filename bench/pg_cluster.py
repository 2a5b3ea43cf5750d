"""A throw-away PostgreSQL cluster for the benches: the tests' (fsync off, unix socket only),
started in a temp folder and always stopped and deleted."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

# The tests' cluster helper (tests/ is not installed).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.servers.postgres import PostgresCluster, find_bindir

__all__ = ["PostgresCluster", "find_bindir", "throwaway_cluster"]


@contextlib.asynccontextmanager
async def throwaway_cluster() -> AsyncIterator[PostgresCluster]:
    """A running cluster with the migrated template `fresh_database()` copies."""
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL's initdb was not found (apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="vyraj-bench-pg-"))
    if PostgresCluster.needs_server_user():
        shutil.chown(folder, "postgres", "postgres")
    cluster = PostgresCluster(bindir, folder)
    try:
        await asyncio.to_thread(cluster.start)
        await cluster.create_template()
        yield cluster
    finally:
        await asyncio.to_thread(cluster.stop)
        shutil.rmtree(folder, ignore_errors=True)
