"""A throw-away PostgreSQL cluster for the tests: `initdb` and `pg_ctl` in a temp folder,
listening only on a unix socket there (no TCP port to clash over), stopped by its own pid."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from storage.postgres.migrations import migrate

TEMPLATE = "vyraj_template"
# A role that logs in with a password (every other one is trusted on the socket).
PASSWORD_ROLE, PASSWORD = "vyraj_password", "right-password"


def find_bindir() -> Path | None:
    """Where initdb and pg_ctl are: `pg_config --bindir`, else Debian's newest version."""
    candidates: list[Path] = []
    if (pg_config := shutil.which("pg_config")) is not None:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if found.returncode == 0:
            candidates.append(Path(found.stdout.strip()))
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = [path for path in debian.iterdir() if path.name.isdigit()]
        candidates += [path / "bin" for path in sorted(versions, key=lambda p: -int(p.name))]
    return next((path for path in candidates if (path / "initdb").exists()), None)


def _as_server_user(command: list[str]) -> list[str]:
    # Debian's package makes the `postgres` user.
    if PostgresCluster.needs_server_user():
        return ["runuser", "-u", "postgres", "--", *command]
    return command


class PostgresCluster:
    """A running cluster; `fresh_database()` hands each test an empty, migrated database."""

    @staticmethod
    def needs_server_user() -> bool:
        """initdb and postgres refuse to run as root: then the `postgres` user runs them."""
        return os.geteuid() == 0

    def __init__(self, bindir: Path, folder: Path) -> None:
        self.bindir = bindir
        self.folder = folder
        self.data = folder / "data"
        self.user = "postgres" if self.needs_server_user() else "vyraj"
        self._names = itertools.count(1)

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@/{database}?host={self.folder}"

    def _run(self, *command: str) -> None:
        subprocess.run(
            _as_server_user([str(self.bindir / command[0]), *command[1:]]),
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "--no-sync",
            "-E", "UTF8", "--locale=C",
        )  # fmt: skip
        # One role must give a password, so that a wrong one can be tried; the rest is trusted.
        hba = self.data / "pg_hba.conf"
        hba.write_text(f"local all {PASSWORD_ROLE} scram-sha-256\n{hba.read_text()}")
        options = (
            f"-k {self.folder} -c listen_addresses='' -c fsync=off -c full_page_writes=off "
            "-c synchronous_commit=off -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"),
            "-w", "-t", "60", "start",
        )  # fmt: skip

    @property
    def pid(self) -> int | None:
        pidfile = self.data / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int(pidfile.read_text().splitlines()[0])
        return None

    def stop(self) -> None:
        pid = self.pid
        if pid is None:
            return
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except (subprocess.SubprocessError, OSError):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # our own server, by its own pid

    async def create_template(self) -> None:
        """A migrated database each test's database is copied from (CREATE DATABASE is fast)."""
        admin = await asyncpg.connect(self.url("postgres"))
        try:
            await admin.execute(f"CREATE DATABASE {TEMPLATE}")
            await admin.execute(f"CREATE ROLE {PASSWORD_ROLE} LOGIN PASSWORD '{PASSWORD}'")
        finally:
            await admin.close()
        conn = await asyncpg.connect(self.url(TEMPLATE))
        try:
            await migrate(conn)
        finally:
            await conn.close()

    async def fresh_database(self, template: str = TEMPLATE) -> str:
        """A new database (migrated, or empty with template0); its URL."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        admin = await asyncpg.connect(self.url("postgres"))
        try:
            await admin.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        finally:
            await admin.close()
        return self.url(name)


@contextlib.contextmanager
def running_cluster() -> Iterator[PostgresCluster]:
    """Start a cluster (skipped without PostgreSQL, failed so when CI is set) and always stop
    and delete it afterwards."""
    bindir = find_bindir()
    if bindir is None:
        message = "PostgreSQL's initdb was not found (apt-get install postgresql)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    folder = Path(tempfile.mkdtemp(prefix="vyraj-pg-"))
    if PostgresCluster.needs_server_user():
        shutil.chown(folder, "postgres", "postgres")
    cluster = PostgresCluster(bindir, folder)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
