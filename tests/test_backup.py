"""`vyraj backup` and `vyraj restore` as real processes: online copies that restore, refusals."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import secrets
import signal
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from bot.app import check_secret_key
from bot.backup import back_up_into_rotation, take_daily_backup
from bot.instance_lock import hold_database_lock
from bot.sandbox.runtime import Sandbox
from bot.settings import load_settings
from services.privacy import Keyring
from storage import open_storage
from storage.sqlite import connect
from tests.test_privacy_scan import exercise_every_flow, find_ids

ROOT = Path(__file__).resolve().parent.parent
KEY = secrets.token_hex(32)


@dataclass(frozen=True)
class Finished:
    code: int
    stdout: str
    stderr: str


def vyraj_env(database: Path, secret_key: str | None = KEY) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{database.resolve()}",
    }
    if secret_key is not None:
        env["SECRET_KEY"] = secret_key
    return env


async def start_vyraj(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT / "tests",  # a folder without a .env, so only `env` configures it
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(process: asyncio.subprocess.Process) -> Finished:
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return Finished(process.returncode, stdout.decode(), stderr.decode())


async def vyraj(env: dict[str, str], *args: str) -> Finished:
    return await finish(await start_vyraj(env, *args))


def assert_refused(result: Finished, *words: str) -> None:
    assert result.code != 0
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr  # one line, no traceback
    for word in words:
        assert word in result.stderr


async def new_database(path: Path, key: str = KEY) -> None:
    """A database as the bot leaves it at its first start: migrated, with the key's check."""
    storage = await open_storage(f"sqlite:///{path}")
    try:
        await check_secret_key(storage, Keyring(key.encode()))
    finally:
        await storage.close()


def names_in(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def people_in(path: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
        return {row[0] for row in db.execute("SELECT person FROM preferences")}


async def write_burst(
    conn: aiosqlite.Connection, committed: list[str], stop: asyncio.Event
) -> None:
    """Commit one row at a time, as the bot does, until told to stop."""
    keyring = Keyring(KEY.encode())
    while not stop.is_set():
        person = keyring.user_pseudonym(2**33 + len(committed))
        await conn.execute("INSERT INTO preferences (person, locale) VALUES (?, 'en')", (person,))
        await conn.commit()
        committed.append(person)


async def test_a_backup_during_a_burst_of_writes_restores_every_committed_row(
    tmp_path: Path,
) -> None:
    live = tmp_path / "live" / "vyraj.sqlite3"
    await new_database(live)
    conn = await connect(live)
    # Every row stays in the write-ahead log, so a copy of the main file alone would lack them.
    await conn.execute("PRAGMA wal_autocheckpoint = 0")
    committed: list[str] = []
    stop = asyncio.Event()
    writer = asyncio.create_task(write_burst(conn, committed, stop))
    try:
        while len(committed) < 100:
            await asyncio.sleep(0)  # let the writer run; the loop ends on a count, not a time
        before_backup = list(committed)
        backup = await vyraj(vyraj_env(live), "backup", str(tmp_path / "copy.sqlite3"))
        during_backup = len(committed) - len(before_backup)
    finally:
        stop.set()
        await writer
        await conn.close()

    assert backup.code == 0, backup.stderr
    assert during_backup > 0  # the writes really went on while the copy was taken
    copy = tmp_path / "copy.sqlite3"
    assert copy.stat().st_mode & 0o777 == 0o600
    assert "it is in SECRET_KEY" in backup.stdout
    assert KEY not in backup.stdout
    assert KEY.encode() not in copy.read_bytes()

    restored = tmp_path / "elsewhere" / "vyraj.sqlite3"
    result = await vyraj(vyraj_env(restored), "restore", str(copy))
    assert result.code == 0, result.stderr
    rows = people_in(restored)
    assert set(before_backup) <= rows
    assert rows <= set(committed)  # and nothing that was never committed
    assert restored.stat().st_mode & 0o777 == 0o600
    # The bot opens it with the same key.
    await new_database(restored)


async def test_restore_with_another_key_is_refused(tmp_path: Path) -> None:
    live = tmp_path / "vyraj.sqlite3"
    await new_database(live)
    await new_database(tmp_path / "other.sqlite3", key=secrets.token_hex(32))
    copy = tmp_path / "copy.sqlite3"
    assert (await vyraj(vyraj_env(tmp_path / "other.sqlite3"), "backup", str(copy))).code == 0
    before = live.read_bytes()

    result = await vyraj(vyraj_env(live), "restore", str(copy))

    assert_refused(result, "restore refused", "does not match the key in SECRET_KEY")
    assert live.read_bytes() == before


async def test_restore_replaces_the_database_and_keeps_the_old_one(tmp_path: Path) -> None:
    live = tmp_path / "vyraj.sqlite3"
    await new_database(live)
    copy = tmp_path / "copy.sqlite3"
    assert (await vyraj(vyraj_env(live), "backup", str(copy))).code == 0
    conn = await connect(live)
    await conn.execute("INSERT INTO preferences (person, locale) VALUES ('after', 'be')")
    await conn.commit()
    await conn.close()

    result = await vyraj(vyraj_env(live), "restore", str(copy))

    assert result.code == 0, result.stderr
    assert people_in(live) == set()
    kept = [
        name for name in names_in(tmp_path) if name.startswith("vyraj.sqlite3.before-restore-")
    ]
    assert kept[0] + "-wal" in kept or len(kept) == 1  # the old file, with its log if it had one
    assert f"kept as {tmp_path / kept[0]}" in result.stdout
    assert people_in(tmp_path / kept[0]) == {"after"}


async def test_a_damaged_backup_is_refused(tmp_path: Path) -> None:
    live = tmp_path / "vyraj.sqlite3"
    await new_database(live)
    copy = tmp_path / "copy.sqlite3"
    assert (await vyraj(vyraj_env(live), "backup", str(copy))).code == 0
    damaged = bytearray(copy.read_bytes())
    page = 4096
    damaged[page : 2 * page] = b"\xff" * page  # the second page: a table's b-tree
    copy.write_bytes(bytes(damaged))
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database" * 1000)
    before = live.read_bytes()

    refused = await asyncio.gather(
        vyraj(vyraj_env(live), "restore", str(copy)),
        vyraj(vyraj_env(live), "restore", str(garbage)),
        vyraj(vyraj_env(live), "restore", str(tmp_path / "missing.sqlite3")),
    )

    assert_refused(refused[0], "restore refused", "damaged")
    assert_refused(refused[1], "restore refused", "not a database")
    assert_refused(refused[2], "restore refused", "no such file")
    assert live.read_bytes() == before


async def test_restore_is_refused_while_the_database_is_in_use(tmp_path: Path) -> None:
    live = tmp_path / "vyraj.sqlite3"
    await new_database(live)
    copy = tmp_path / "copy.sqlite3"
    assert (await vyraj(vyraj_env(live), "backup", str(copy))).code == 0

    with hold_database_lock(live):  # as `vyraj run` does for its whole life
        restore, second_bot = await asyncio.gather(
            vyraj(vyraj_env(live), "restore", str(copy)),
            vyraj({**vyraj_env(live), "BOT_TOKEN": "123:abc"}, "run"),
        )

    assert_refused(restore, "restore refused", "in use by another Vyraj process")
    assert_refused(second_bot, "in use by another Vyraj process")
    assert second_bot.code == 2


async def test_restore_without_a_key_is_refused_and_creates_none(tmp_path: Path) -> None:
    live = tmp_path / "live.sqlite3"
    await new_database(live)
    copy = tmp_path / "copy.sqlite3"
    assert (await vyraj(vyraj_env(live), "backup", str(copy))).code == 0
    target = tmp_path / "new" / "vyraj.sqlite3"

    result = await vyraj(vyraj_env(target, secret_key=None), "restore", str(copy))

    assert_refused(result, "restore refused", "no key")
    assert not target.exists()
    assert not target.with_name("vyraj.sqlite3.key").exists()


async def test_backup_never_overwrites_without_force_and_names_files_in_a_folder(
    tmp_path: Path,
) -> None:
    live = tmp_path / "vyraj.sqlite3"
    await new_database(live)
    existing = tmp_path / "existing.sqlite3"
    existing.write_bytes(b"keep me")
    folder = tmp_path / "backups"

    refused, forced, named = await asyncio.gather(
        vyraj(vyraj_env(live), "backup", str(existing)),
        vyraj(vyraj_env(live, secret_key=None), "backup", "--force", str(existing)),
        vyraj(vyraj_env(live), "backup", f"{folder}/"),  # a folder, created
    )

    assert_refused(refused, "backup refused", "already exists (--force replaces it)")
    assert forced.code == 0
    assert existing.read_bytes().startswith(b"SQLite format 3")
    assert f"in the key file {live.resolve()}.key" in forced.stdout
    assert named.code == 0
    assert [name[:6] for name in names_in(folder)] == ["vyraj-"]
    assert not [name for name in names_in(tmp_path) if name.endswith(".partial")]


async def test_a_backup_of_a_live_bot_holds_no_user_id_and_restores(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    await sandbox.start_bot()
    user_ids = await exercise_every_flow(sandbox)
    copy = tmp_path / "copy.sqlite3"

    backup = await vyraj(vyraj_env(sandbox.database_path), "backup", str(copy))

    assert backup.code == 0, backup.stderr
    assert find_ids(copy.read_bytes(), user_ids) == []
    await sandbox.stop_bot()
    restored = tmp_path / "restored" / "vyraj.sqlite3"
    result = await vyraj(vyraj_env(restored, sandbox.secret_key), "restore", str(copy))
    assert result.code == 0, result.stderr
    assert find_ids(restored.read_bytes(), user_ids) == []


async def test_daily_backups_rotate_and_leave_other_files_alone(tmp_path: Path) -> None:
    live = tmp_path / "vyraj.sqlite3"
    await new_database(live)
    folder = tmp_path / "backups"
    settings = load_settings(database_url=f"sqlite:///{live}", _env_file=None)
    day = dt.datetime(2026, 11, 20, 3, 30, tzinfo=dt.UTC)

    written = [
        back_up_into_rotation(settings, folder, keep=2, now=day + dt.timedelta(days=n))
        for n in range(2)
    ]
    (folder / "notes.txt").write_text("mine")
    written.append(back_up_into_rotation(settings, folder, keep=2, now=day + dt.timedelta(days=2)))

    assert names_in(folder) == sorted(["notes.txt", written[1].name, written[2].name])
    assert written[2].name == "vyraj-20261122T033000Z.sqlite3"
    assert folder.stat().st_mode & 0o777 == 0o700


async def test_the_bot_schedules_a_daily_backup_only_with_backup_dir(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    running = await sandbox.start_bot()
    assert running.vyraj.scheduler.next_run("daily-backup") is None
    await sandbox.stop_bot()
    folder = tmp_path / "daily"
    running = await sandbox.start_bot(backup_dir=str(folder), backup_keep=3)

    next_run = running.vyraj.scheduler.next_run("daily-backup")
    assert next_run is not None
    assert (next_run.hour, next_run.minute) == (3, 30)  # in TIMEZONE
    written = await take_daily_backup(running.vyraj.settings, folder, sandbox.clock)

    assert written == folder / f"vyraj-{sandbox.clock.now():%Y%m%dT%H%M%SZ}.sqlite3"
    assert people_in(written) == set()  # a sound copy of the live database


async def test_a_running_bot_holds_its_database_until_it_stops(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    live = tmp_path / "data" / "vyraj.sqlite3"
    await new_database(live)
    copy = tmp_path / "copy.sqlite3"
    assert (await vyraj(vyraj_env(live), "backup", str(copy))).code == 0
    env = {**vyraj_env(live), "BOT_TOKEN": sandbox.api.token, "TELEGRAM_API_URL": sandbox.api_url}
    bot = await start_vyraj(env, "run")
    try:
        user = sandbox.user(language_code="en")
        await sandbox.api.push_update(
            sandbox.api.message_update(user.user, user.chat, {"text": "/start"})
        )
        # Its reply reaches the local server once the process is up and serving.
        await sandbox.api.wait_until(lambda: bool(user.bot_messages), timeout=60)

        restore, second_bot = await asyncio.gather(
            vyraj(env, "restore", str(copy)), vyraj(env, "run")
        )
    finally:
        bot.send_signal(signal.SIGTERM)
        stopped = await finish(bot)

    assert stopped.code == 0, stopped.stderr
    assert_refused(restore, "restore refused", "in use by another Vyraj process")
    assert_refused(second_bot, "in use by another Vyraj process")
    assert (await vyraj(env, "restore", str(copy))).code == 0
