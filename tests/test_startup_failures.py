"""A start that cannot succeed says why in one line, exits non-zero, never hangs and leaves no
file behind; the real `vyraj` command against the local Bot API server."""

from __future__ import annotations

import asyncio
import io
import os
import resource
import signal
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import check_secret_key
from bot.sandbox.runtime import Sandbox, free_port
from bot.secret_key import MasterSecret, key_file_for, resolve_master_secret
from bot.settings import Settings, SettingsError, load_settings
from services.privacy import Keyring
from storage import open_storage
from storage.sqlite.inspection import DatabaseFileError, inspect_database

ROOT = Path(__file__).resolve().parent.parent
KEY = "k" * 64
# Interpreter start-up alone can take many seconds on a busy machine; this only catches hangs.
HANG_SECONDS = 90
# From the first try of a failing call to the exit: the start-up budget plus closing down.
STARTUP_SECONDS = 10


@dataclass
class Finished:
    code: int
    stdout: str
    stderr: str
    ended_at: float

    @property
    def line(self) -> str:
        """The one line of stderr (asserted)."""
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1, self.stderr
        assert "Traceback" not in self.stderr
        return lines[0]


def files_under(folder: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def entries(folder: Path) -> list[Path]:
    """Everything in `folder`, folders included."""
    return list(folder.iterdir())


def workdir(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    return folder


def limit_file_size(limit: int) -> Callable[[], None]:
    """A full disk for the child: writes beyond `limit` bytes fail with EFBIG, not a signal."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


async def start_vyraj(cwd: Path, *args: str, **env: str) -> asyncio.subprocess.Process:
    return await spawn(cwd, args, env)


async def spawn(
    cwd: Path,
    args: tuple[str, ...],
    env: dict[str, str],
    preexec: Callable[[], None] | None = None,
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *(args or ("run",)),
        cwd=workdir(cwd),
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=preexec,
    )


async def finish(process: asyncio.subprocess.Process) -> Finished:
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), HANG_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError("vyraj hung") from None
    assert process.returncode is not None
    return Finished(process.returncode, stdout.decode(), stderr.decode(), time.monotonic())


async def vyraj(cwd: Path, *args: str, **env: str) -> Finished:
    return await finish(await start_vyraj(cwd, *args, **env))


def telegram(sandbox: Sandbox, **env: str) -> dict[str, str]:
    return {"BOT_TOKEN": sandbox.api.token, "TELEGRAM_API_URL": sandbox.api_url, **env}


def gave_up_in_time(sandbox: Sandbox, method: str, finished: Finished) -> bool:
    """Whether Vyraj exited within STARTUP_SECONDS of its first try of `method`."""
    first_try = next(call.at for call in sandbox.api.calls if call.method == method)
    return finished.ended_at - first_try < STARTUP_SECONDS


async def make_vyraj_database(path: Path) -> None:
    """A database as `vyraj run` leaves it, made with KEY."""
    storage = await open_storage(f"sqlite:///{path}")
    try:
        await check_secret_key(storage, Keyring(KEY.encode()))
    finally:
        await storage.close()


# ---- Telegram ---------------------------------------------------------------------------


async def test_a_rejected_token_is_final_at_once(sandbox: Sandbox, tmp_path: Path) -> None:
    finished = await vyraj(
        tmp_path / "work",
        BOT_TOKEN="123456:wrong",
        TELEGRAM_API_URL=sandbox.api_url,
        DATABASE_URL="sqlite:///data/vyraj.sqlite3",
    )
    assert finished.code == 2
    assert finished.line.startswith("BOT_TOKEN: rejected by")
    assert "Unauthorized" in finished.line
    assert "wrong" not in finished.stderr
    assert files_under(tmp_path) == {}


async def test_an_unreachable_api_gives_up_within_the_budget(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    finished = await vyraj(
        tmp_path / "work",
        BOT_TOKEN="123456:abc",
        TELEGRAM_API_URL=url,
        DATABASE_URL="sqlite:///data/vyraj.sqlite3",
    )
    assert finished.code == 1
    assert finished.line.startswith(f"TELEGRAM_API_URL: {url} did not answer")
    assert "Cannot connect" in finished.line
    assert files_under(tmp_path) == {}


async def test_transient_errors_at_start_are_retried(sandbox: Sandbox, tmp_path: Path) -> None:
    api = sandbox.api
    api.fail_next("getMe", status=502, description="Bad Gateway", reply="html")
    api.fail_next("setMyCommands", status=500)
    api.fail_next("setMyCommands", status=500, reply="drop")
    api.fail_next("deleteWebhook", status=429, retry_after=1)
    # A token pasted with a trailing space is the token.
    env = telegram(sandbox, BOT_TOKEN=api.token + " ", SECRET_KEY=KEY)
    process = await start_vyraj(tmp_path, DATABASE_URL="sqlite:///vyraj.sqlite3", **env)
    async with asyncio.timeout(HANG_SECONDS):
        while not any(call.method == "getUpdates" for call in api.calls):
            assert process.returncode is None, await finish(process)
            await asyncio.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    finished = await finish(process)
    assert finished.code == 0, finished.stderr
    failed = [call.method for call in api.calls if call.status != 200]
    assert failed == ["getMe", "setMyCommands", "setMyCommands", "deleteWebhook"]


async def test_a_lasting_server_error_fails_cleanly_and_removes_the_new_database(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.api.fail_next("setMyCommands", status=500, count=1000)
    finished = await vyraj(
        tmp_path / "work", DATABASE_URL="sqlite:///data/v.sqlite3", **telegram(sandbox)
    )
    assert finished.code == 1
    assert finished.line.startswith(f"TELEGRAM_API_URL: {sandbox.api_url} did not answer")
    assert "Internal Server Error" in finished.line
    assert gave_up_in_time(sandbox, "setMyCommands", finished)
    assert entries(tmp_path / "work") == []  # no database, key, -wal, -shm or folder


async def test_sigterm_during_start_exits_cleanly(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.api.fail_next("deleteWebhook", status=502, count=1000)
    process = await start_vyraj(
        tmp_path / "work", DATABASE_URL="sqlite:///data/v.sqlite3", **telegram(sandbox)
    )
    async with asyncio.timeout(HANG_SECONDS):
        while not any(call.method == "deleteWebhook" for call in sandbox.api.calls):
            await asyncio.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    finished = await finish(process)
    assert finished.code == 0
    assert finished.line == "Stopped by SIGTERM before start-up finished"
    assert entries(tmp_path / "work") == []


async def test_digest_now_with_a_rejected_token_is_one_line(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    await make_vyraj_database(tmp_path / "v.sqlite3")
    finished = await vyraj(
        tmp_path,
        "digest",
        "--now",
        BOT_TOKEN="123456:wrong",
        TELEGRAM_API_URL=sandbox.api_url,
        DIGEST_CHAT_ID="@vyraj_news",
        DATABASE_URL="sqlite:///v.sqlite3",
        SECRET_KEY=KEY,
    )
    assert finished.code == 2
    assert finished.line.startswith("BOT_TOKEN: rejected by")


# ---- the database -----------------------------------------------------------------------


async def test_a_folder_that_cannot_be_created(sandbox: Sandbox, tmp_path: Path) -> None:
    (tmp_path / "plain-file").write_text("not a folder")
    before = files_under(tmp_path)
    finished = await vyraj(
        tmp_path,
        DATABASE_URL=f"sqlite:///{tmp_path}/plain-file/data/v.sqlite3",
        **telegram(sandbox),
    )
    assert finished.code == 1
    assert finished.line == (
        f"DATABASE_URL: cannot create the folder {tmp_path}/plain-file/data (Not a directory)"
    )
    assert files_under(tmp_path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
async def test_a_folder_that_cannot_be_written(sandbox: Sandbox, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    finished = await vyraj(
        tmp_path, DATABASE_URL=f"sqlite:///{locked}/v.sqlite3", **telegram(sandbox)
    )
    assert finished.code == 1
    assert finished.line == f"DATABASE_URL: the folder {locked} is not writable"
    assert entries(locked) == []


def sqlite_of_another_program(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE contacts (name TEXT)")
    conn.close()


@pytest.mark.parametrize(
    ("make", "complaint"),
    [
        (
            lambda path: path.write_text("root:x:0:0:root:/root:/bin/bash\n"),
            "is not a Vyraj database",
        ),
        (sqlite_of_another_program, "is an SQLite database of another program"),
    ],
    ids=["passwd", "sqlite"],
)
async def test_a_file_vyraj_did_not_create_is_never_written(
    sandbox: Sandbox, tmp_path: Path, make: Callable[[Path], None], complaint: str
) -> None:
    make(tmp_path / "passwd")
    before = files_under(tmp_path)
    finished = await vyraj(
        tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/passwd", **telegram(sandbox)
    )
    assert finished.code == 1
    assert finished.line.startswith(f"DATABASE_URL: {tmp_path}/passwd {complaint}")
    assert files_under(tmp_path) == before  # no passwd.key, no -wal, not a byte changed


def garbage_header(data: bytes) -> bytes:
    return b"garbage garbage!" + data[16:]


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2 + 100]


def random_page(data: bytes) -> bytes:
    return data[:4096] + os.urandom(4096) + data[8192:]


def zeroed_page(data: bytes) -> bytes:
    return data[:8192] + bytes(4096) + data[12288:]


def text_file(_data: bytes) -> bytes:
    return b"Dear diary,\n" * 500


DAMAGES = [garbage_header, truncated, random_page, zeroed_page, text_file]


@pytest.mark.parametrize("damage", DAMAGES)
async def test_every_kind_of_damage_is_recognised(
    tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    database = tmp_path / "v.sqlite3"
    await make_vyraj_database(database)
    database.write_bytes(damage(database.read_bytes()))
    with pytest.raises(DatabaseFileError, match=r"damaged.*restore a backup") as raised:
        inspect_database(database)
    assert "\n" not in str(raised.value)
    assert entries(tmp_path) == [database]


@pytest.mark.parametrize("damage", [garbage_header, zeroed_page])
async def test_a_damaged_database_points_to_a_backup(
    sandbox: Sandbox, tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    database = tmp_path / "v.sqlite3"
    await make_vyraj_database(database)
    database.write_bytes(damage(database.read_bytes()))
    before = files_under(tmp_path)
    finished = await vyraj(
        tmp_path, DATABASE_URL=f"sqlite:///{database}", SECRET_KEY=KEY, **telegram(sandbox)
    )
    assert finished.code == 1
    assert finished.line.startswith(f"DATABASE_URL: {database} ")
    assert "damaged" in finished.line
    assert "restore a backup" in finished.line
    assert files_under(tmp_path) == before


async def test_a_read_only_database(sandbox: Sandbox, tmp_path: Path) -> None:
    database = tmp_path / "v.sqlite3"
    await make_vyraj_database(database)
    database.chmod(0o444)
    before = files_under(tmp_path)
    finished = await vyraj(
        tmp_path, DATABASE_URL=f"sqlite:///{database}", SECRET_KEY=KEY, **telegram(sandbox)
    )
    assert finished.code == 1
    assert finished.line == f"DATABASE_URL: {database} is read-only (mode 0444)"
    assert files_under(tmp_path) == before


def test_a_read_only_file_system_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Mounting one needs root; the answer of statvfs is what Vyraj goes by.
    database = tmp_path / "v.sqlite3"
    database.write_bytes(b"")
    monkeypatch.setattr(os, "statvfs", lambda _path: ReadOnlyFileSystem())
    with pytest.raises(DatabaseFileError, match=r"v\.sqlite3 is on a read-only file system$"):
        inspect_database(database)


class ReadOnlyFileSystem:
    f_flag = os.ST_RDONLY


async def test_a_full_disk_at_start(sandbox: Sandbox, tmp_path: Path) -> None:
    env = telegram(sandbox, DATABASE_URL="sqlite:///data/v.sqlite3")
    finished = await finish(await spawn(tmp_path / "work", (), env, limit_file_size(16 * 1024)))
    assert finished.code == 1
    assert finished.line.startswith("DATABASE_URL: data/v.sqlite3 cannot be used (")
    assert "check free disk space" in finished.line
    assert entries(tmp_path / "work") == []


# ---- the key ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_file", "complaint"),
    [
        ("", "the key file: {key} is empty; restore the key it held"),
        (
            None,
            "SECRET_KEY: not set, and the key file {key} is missing; this database needs the key "
            "it was created with: restore the key file, or set SECRET_KEY or SECRET_KEY_FILE",
        ),
    ],
    ids=["empty", "lost"],
)
async def test_a_missing_key_is_one_line_and_writes_nothing(
    sandbox: Sandbox, tmp_path: Path, key_file: str | None, complaint: str
) -> None:
    database = tmp_path / "v.sqlite3"
    await make_vyraj_database(database)
    key = tmp_path / "v.sqlite3.key"
    if key_file is not None:
        key.write_text(key_file)
    before = files_under(tmp_path)
    finished = await vyraj(tmp_path, DATABASE_URL=f"sqlite:///{database}", **telegram(sandbox))
    assert finished.code == 2
    assert finished.line == complaint.format(key=key)
    assert files_under(tmp_path) == before


# ---- the knowledge base and the digest --------------------------------------------------


@pytest.mark.parametrize("exists", [False, True], ids=["missing", "empty"])
async def test_a_knowledge_dir_without_articles(
    sandbox: Sandbox, tmp_path: Path, exists: bool
) -> None:
    knowledge = tmp_path / "knowledge"
    if exists:
        knowledge.mkdir()
    finished = await vyraj(
        tmp_path / "work",
        KNOWLEDGE_DIR=str(knowledge),
        DATABASE_URL="sqlite:///v.sqlite3",
        **telegram(sandbox),
    )
    assert finished.code == 2
    if exists:
        assert (
            finished.line
            == f"KNOWLEDGE_DIR: {knowledge} holds no articles (<topic>/<id>.<lang>.md)"
        )
    else:
        assert finished.line == f"KNOWLEDGE_DIR: {knowledge} is not a folder"
    assert entries(tmp_path / "work") == []


async def test_digest_dry_run_on_a_fresh_checkout_creates_nothing(tmp_path: Path) -> None:
    finished = await vyraj(tmp_path, "digest", "--dry-run", "--chart", "chart.png")
    assert finished.code == 1
    assert finished.line == (
        "DATABASE_URL: data/vyraj.sqlite3 holds no Vyraj data yet (`vyraj run` creates it); "
        "there is nothing to digest"
    )
    assert entries(tmp_path) == []


async def test_digest_dry_run_without_data_says_there_is_no_chart(tmp_path: Path) -> None:
    await make_vyraj_database(tmp_path / "v.sqlite3")
    before = files_under(tmp_path)
    finished = await vyraj(
        tmp_path,
        "digest",
        "--dry-run",
        "--chart",
        "chart.png",
        DATABASE_URL="sqlite:///v.sqlite3",
        SECRET_KEY=KEY,
        DIGEST_LOCALE="en",
    )
    assert finished.code == 0, finished.stderr
    assert "[no chart: too few answers to draw one; chart.png not written]" in finished.stdout
    assert "<b>" not in finished.stdout
    assert files_under(tmp_path) == before  # read-only: not even a -wal file


# ---- where the key comes from -----------------------------------------------------------


def settings_for(database: Path, **values: object) -> Settings:
    return Settings(_env_file=None, database_url=f"sqlite:///{database}", **values)  # type: ignore[arg-type]


def test_secret_key_file_is_read_and_nothing_is_written_beside_the_database(
    tmp_path: Path,
) -> None:
    secret = tmp_path / "secrets" / "vyraj_key"
    secret.parent.mkdir()
    secret.write_text(KEY + "\n")
    secret.chmod(0o600)
    settings = settings_for(tmp_path / "v.sqlite3", secret_key_file=str(secret))
    master = resolve_master_secret(settings, database_is_new=True)
    assert master == MasterSecret(KEY.encode())
    assert entries(tmp_path) == [secret.parent]


def test_a_key_file_readable_by_others_is_warned_about_once(
    tmp_path: Path, captured_logs: io.StringIO
) -> None:
    key = key_file_for(tmp_path / "v.sqlite3")
    key.write_text(KEY)
    key.chmod(0o644)
    resolve_master_secret(settings_for(tmp_path / "v.sqlite3"), database_is_new=False)
    (line,) = captured_logs.getvalue().splitlines()
    assert line == (
        f"WARNING bot.secret_key: {key} is readable by group or others (mode 0644): "
        "restrict it with chmod 600"
    )


def test_both_key_settings_are_refused() -> None:
    with pytest.raises(SettingsError, match=r"^SECRET_KEY and SECRET_KEY_FILE: set only one"):
        load_settings(_env_file=None, secret_key=KEY, secret_key_file="/run/secrets/vyraj_key")
