"""`vyraj run` on PostgreSQL: a start that cannot succeed says why in one line (never the
password), and a shared database needs SECRET_KEY."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from bot.app import check_secret_key, pending_responses_key
from bot.sandbox.runtime import Sandbox
from bot.settings import SettingsError, load_settings
from services.privacy import Keyring
from storage import open_storage
from tests.servers.postgres import PASSWORD, PASSWORD_ROLE, PostgresCluster
from tests.test_startup_failures import KEY, files_under, telegram, vyraj


def with_database(url: str, database: str) -> str:
    """The same server and user, another database."""
    head, _, query = url.partition("?")
    return f"{head.rsplit('/', 1)[0]}/{database}?{query}"


def vault(tmp_path: Path) -> str:
    return str(tmp_path / "key-vault")


def test_a_postgres_url_without_secret_key_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"^SECRET_KEY: required with a PostgreSQL"):
        load_settings(
            _env_file=None, database_url="postgresql://vyraj@db/vyraj", key_vault_dir="v"
        )
    settings = load_settings(
        _env_file=None, database_url="postgres://vyraj@db/vyraj", secret_key=KEY, key_vault_dir="v"
    )
    assert settings.uses_postgres


def test_a_postgres_url_without_key_vault_dir_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"^KEY_VAULT_DIR: required with a PostgreSQL"):
        load_settings(_env_file=None, database_url="postgresql://vyraj@db/vyraj", secret_key=KEY)


async def test_vyraj_run_without_key_vault_dir_is_one_line(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    url = "postgresql://vyraj@db/vyraj"
    finished = await vyraj(tmp_path, DATABASE_URL=url, SECRET_KEY=KEY, **telegram(sandbox))
    assert finished.code == 2
    assert finished.line.startswith("KEY_VAULT_DIR: required with a PostgreSQL")
    assert len(finished.stderr.splitlines()) == 1
    assert sandbox.api.calls == []  # refused before reaching Telegram


@pytest.mark.parametrize(
    ("where", "said"),
    [("key-vault", "is not a folder"), ("key-vault/inside", "cannot create the folder")],
)
async def test_an_unusable_key_vault_dir_is_one_line(
    sandbox: Sandbox, tmp_path: Path, where: str, said: str
) -> None:
    (tmp_path / "key-vault").write_bytes(b"")  # a file where the folder should be
    folder = tmp_path / where
    url = "postgresql://vyraj@db/vyraj"
    finished = await vyraj(
        tmp_path / "work",
        DATABASE_URL=url,
        SECRET_KEY=KEY,
        KEY_VAULT_DIR=str(folder),
        **telegram(sandbox),
    )
    assert finished.code == 2
    assert finished.line.startswith("KEY_VAULT_DIR: ")
    assert said in finished.line
    assert str(folder) in finished.line
    assert len(finished.stderr.splitlines()) == 1
    assert sandbox.api.calls == []


def test_an_unknown_database_scheme_is_refused_without_echoing_it() -> None:
    with pytest.raises(SettingsError, match=r"^DATABASE_URL: must look like") as refused:
        load_settings(_env_file=None, database_url="mysql://user:hunter2@db/vyraj")
    assert "hunter2" not in str(refused.value)


async def test_no_server_is_one_line_within_the_budget(sandbox: Sandbox, tmp_path: Path) -> None:
    empty = tmp_path / "no-server"
    empty.mkdir()
    url = f"postgresql://vyraj@/vyraj?host={empty}"
    finished = await vyraj(
        tmp_path / "work",
        DATABASE_URL=url,
        SECRET_KEY=KEY,
        KEY_VAULT_DIR=vault(tmp_path),
        **telegram(sandbox),
    )
    assert finished.code == 1
    assert finished.line.startswith(f"DATABASE_URL: no PostgreSQL server answers at vyraj@{empty}")


async def test_a_missing_database_is_named(
    sandbox: Sandbox, postgres_cluster: PostgresCluster, tmp_path: Path
) -> None:
    url = with_database(await postgres_cluster.fresh_database(), "absent")
    finished = await vyraj(
        tmp_path,
        DATABASE_URL=url,
        SECRET_KEY=KEY,
        KEY_VAULT_DIR=vault(tmp_path),
        **telegram(sandbox),
    )
    assert finished.code == 2
    assert finished.line.startswith("DATABASE_URL: the database absent does not exist")


async def test_a_wrong_password_is_one_line_without_the_password(
    sandbox: Sandbox, postgres_cluster: PostgresCluster, tmp_path: Path
) -> None:
    url = await postgres_cluster.fresh_database()
    wrong = url.replace(f"{postgres_cluster.user}@", f"{PASSWORD_ROLE}:not-{PASSWORD}@")
    finished = await vyraj(
        tmp_path,
        DATABASE_URL=wrong,
        SECRET_KEY=KEY,
        KEY_VAULT_DIR=vault(tmp_path),
        **telegram(sandbox),
    )
    assert finished.code == 2
    assert finished.line.startswith(f"DATABASE_URL: {PASSWORD_ROLE}@")
    assert "refused the password" in finished.line
    assert PASSWORD not in finished.stderr


async def test_a_newer_schema_is_refused(
    sandbox: Sandbox, postgres_cluster: PostgresCluster, tmp_path: Path
) -> None:
    url = await postgres_cluster.fresh_database()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("INSERT INTO schema_version VALUES (999)")
    finally:
        await conn.close()
    finished = await vyraj(
        tmp_path,
        DATABASE_URL=url,
        SECRET_KEY=KEY,
        KEY_VAULT_DIR=vault(tmp_path),
        **telegram(sandbox),
    )
    assert finished.code == 2
    assert "schema version 999, newer than this Vyraj" in finished.line


@pytest.mark.parametrize(
    ("command", "line"),
    [
        (("backup", "copy.sqlite3"), "backup refused: DATABASE_URL is PostgreSQL: pg_dump"),
        (("restore", "copy.sqlite3"), "restore refused: DATABASE_URL is PostgreSQL: pg_restore"),
    ],
)
async def test_the_sqlite_file_commands_point_to_postgres_tools(
    tmp_path: Path, command: tuple[str, ...], line: str
) -> None:
    url = "postgresql://vyraj:secret@db/vyraj"
    finished = await vyraj(
        tmp_path, *command, DATABASE_URL=url, SECRET_KEY=KEY, KEY_VAULT_DIR=vault(tmp_path)
    )
    assert finished.code == 1
    assert finished.line.startswith(line)
    assert files_under(tmp_path) == {}


async def test_digest_dry_run_reads_postgres(
    postgres_cluster: PostgresCluster, tmp_path: Path
) -> None:
    url = await postgres_cluster.fresh_database()
    storage = await open_storage(
        url, pending_key=pending_responses_key(KEY.encode()), key_vault=tmp_path / "key-vault"
    )
    try:
        await check_secret_key(storage, Keyring(KEY.encode()))
    finally:
        await storage.close()
    finished = await vyraj(
        tmp_path,
        "digest",
        "--dry-run",
        DATABASE_URL=url,
        SECRET_KEY=KEY,
        KEY_VAULT_DIR=vault(tmp_path),
    )
    assert (finished.code, finished.stderr) == (0, "")
    assert finished.stdout.strip()

    other_key = "o" * 64
    finished = await vyraj(
        tmp_path,
        "digest",
        "--dry-run",
        DATABASE_URL=url,
        SECRET_KEY=other_key,
        KEY_VAULT_DIR=vault(tmp_path),
    )
    assert finished.code == 2
    assert other_key not in finished.stderr
    assert "SECRET_KEY" in finished.line


async def test_digest_dry_run_refuses_an_outdated_schema_without_migrating(
    postgres_cluster: PostgresCluster, tmp_path: Path
) -> None:
    url = await postgres_cluster.fresh_database()
    conn = await asyncpg.connect(url)
    try:
        latest = await conn.fetchval("SELECT max(version) FROM schema_version")
        await conn.execute("DELETE FROM schema_version WHERE version = $1", latest)
        finished = await vyraj(
            tmp_path,
            "digest",
            "--dry-run",
            DATABASE_URL=url,
            SECRET_KEY=KEY,
            KEY_VAULT_DIR=vault(tmp_path),
        )
        assert finished.code == 2
        assert finished.line == (
            f"DATABASE_URL: the database is at schema version {latest - 1}, this Vyraj needs "
            f"{latest}; `vyraj run` upgrades it (this command only reads)"
        )
        assert len(finished.stderr.splitlines()) == 1
        assert await conn.fetchval("SELECT max(version) FROM schema_version") == latest - 1
    finally:
        await conn.close()
