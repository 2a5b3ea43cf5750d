"""Starting up: reach Telegram, check the database and its key, then serve. A failed start
says why in one line, closes what it opened and removes the files it created."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import os
import sqlite3
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar, cast

from bot.app import (
    KNOWLEDGE_DIR,
    KeyMismatchError,
    Vyraj,
    check_secret_key,
    create_bot,
    create_vyraj,
    pending_responses_key,
)
from bot.instance_lock import DatabaseBusyError, hold_database_lock
from bot.runners import serve_polling, serve_webhook
from bot.secret_key import (
    MasterSecret,
    SecretKeyError,
    key_file_in_data_folder,
    resolve_master_secret,
)
from bot.settings import Settings
from bot.telegram_retry import EXIT_CONFIG, StartBudget, StartupError, call_telegram
from services.knowledge.articles import ArticleError
from services.knowledge.library import KnowledgeLibrary
from services.privacy import Keyring
from storage import Storage
from storage.migrations import available_migrations, schema_version
from storage.sqlite import SqliteStorage, connect_read_only, open_sqlite
from storage.sqlite.inspection import DatabaseFile, DatabaseFileError, inspect_database

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class NewFiles:
    """Files and folders this start created, to remove again if it fails."""

    paths: list[Path] = field(default_factory=list)

    def add(self, *paths: Path) -> None:
        self.paths.extend(paths)

    def remove(self) -> None:
        for path in reversed(self.paths):
            if path.is_dir():
                with contextlib.suppress(OSError):  # someone put a file there meanwhile
                    path.rmdir()
            else:
                path.unlink(missing_ok=True)


def load_library(settings: Settings) -> KnowledgeLibrary:
    """The relocation guide's articles; a missing, empty or broken KNOWLEDGE_DIR stops here."""
    root = settings.knowledge_dir or KNOWLEDGE_DIR
    if not root.is_dir():
        raise StartupError(f"KNOWLEDGE_DIR: {root} is not a folder", EXIT_CONFIG)
    try:
        library = KnowledgeLibrary(root)
    except ArticleError as exc:
        raise StartupError(f"KNOWLEDGE_DIR: {exc}", EXIT_CONFIG) from None
    if not library.base.ids:
        raise StartupError(
            f"KNOWLEDGE_DIR: {root} holds no articles (<topic>/<id>.<lang>.md)", EXIT_CONFIG
        )
    return library


async def reach_telegram(settings: Settings, budget: StartBudget) -> None:
    """getMe: proves the token is accepted and TELEGRAM_API_URL answers."""
    bot = create_bot(settings)
    try:
        await call_telegram(budget, bot.get_me, api_url=settings.telegram_api_url, token=bot.token)
    finally:
        await bot.session.close()


async def reach_redis(settings: Settings) -> None:
    """PING the shared Redis, if there is one: no instance starts without it."""
    if settings.redis_url is None:
        return
    from redis.asyncio import Redis  # only with REDIS_URL, as in bot/shared/services.py
    from redis.exceptions import RedisError

    client = Redis.from_url(settings.redis_url.get_secret_value())
    try:
        await cast(Awaitable[bool], client.ping())  # redis-py types it for both clients
    except RedisError as exc:
        raise StartupError(f"REDIS_URL: Redis does not answer ({exc})") from None
    finally:
        await client.aclose(close_connection_pool=True)


async def run_bot(settings: Settings) -> None:
    """Everything `vyraj run` does, from reaching Telegram until it is stopped."""
    limit_malloc_arenas()  # before the first worker thread starts
    # A missing or empty KNOWLEDGE_DIR stops the start here; the index is built off the loop.
    library = await asyncio.to_thread(load_library, settings)
    if settings.uses_postgres:
        await run_bot_on_postgres(settings, library)
        return
    refuse_if_in_use(settings.database_path)
    await reach_telegram(settings, StartBudget.from_now())
    await reach_redis(settings)
    new_files = NewFiles()
    vyraj: Vyraj | None = None
    try:
        master = prepare_database(settings, new_files)
        vyraj = await _open(
            create_vyraj(settings, master.value, library=library), settings.database_path
        )
        generated = master.generated_at
        if generated is not None:
            # Said once the start succeeded: a failed start removes the key file again.
            vyraj.dispatcher.startup.register(lambda: announce_new_key(generated))
        if (with_data := key_file_in_data_folder(settings)) is not None:
            vyraj.dispatcher.startup.register(lambda: warn_key_with_data(with_data))
        vyraj.dispatcher.startup.register(freeze_start_up_objects)
        # The runners give their own Telegram calls a fresh budget: opening the database may
        # take a while on a slow machine, and that is no reason to give up on Telegram.
        try:
            with hold_database_lock(settings.database_path):
                await (serve_webhook(vyraj) if settings.webhook_url else serve_polling(vyraj))
        except DatabaseBusyError as exc:  # another bot took it since `refuse_if_in_use`
            await vyraj.close()
            raise StartupError(str(exc), EXIT_CONFIG) from None
        except sqlite3.DatabaseError as exc:
            if vyraj.started:
                raise
            raise database_failure(settings.database_path, exc) from None  # in on_startup
    except BaseException:
        if vyraj is None or not vyraj.started:
            new_files.remove()
        raise


async def run_bot_on_postgres(settings: Settings, library: KnowledgeLibrary) -> None:
    """`vyraj run` on a shared PostgreSQL database: no file to check, lock or create, and the
    key comes from SECRET_KEY (or SECRET_KEY_FILE) only, the same on every instance."""
    # asyncpg: ~3 MB a SQLite bot never needs, so imported on this path only
    from bot.postgres_start import check_key_vault, open_on_postgres

    await check_key_vault(settings)
    await reach_telegram(settings, StartBudget.from_now())
    try:
        master = resolve_master_secret(settings, database_is_new=False)
    except SecretKeyError as exc:
        raise StartupError(str(exc), EXIT_CONFIG) from None

    vyraj = await open_on_postgres(
        lambda: create_vyraj(settings, master.value, library=library), settings.database_url
    )
    vyraj.dispatcher.startup.register(freeze_start_up_objects)
    await (serve_webhook(vyraj) if settings.webhook_url else serve_polling(vyraj))


async def freeze_start_up_objects() -> None:
    """What start-up made (the guide and its index, aiogram's models) lives as long as the
    process: kept out of the collector's sweeps, which would otherwise walk it again and again.
    Only here, in `vyraj run`'s own process, never in a test's."""
    gc.collect()
    gc.freeze()
    return_freed_heap()


# glibc's mallopt parameter M_ARENA_MAX, and how many C heaps the bot's threads share.
_M_ARENA_MAX = -8
MALLOC_ARENAS = 2


def _glibc() -> ctypes.CDLL | None:
    """glibc, or None on other C libraries (musl, macOS), whose allocators need no tuning."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


def limit_malloc_arenas() -> None:
    """Let the few worker threads (the index build's, SQLite's) share two C heaps: glibc gives
    each thread its own by default, each keeping scraps of its own (~0.3 MiB idle in all)."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return  # the operator's choice, already applied by glibc
    if (libc := _glibc()) is not None:
        libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS)


def return_freed_heap() -> None:
    """Give the C heap's free pages back to the system. Start-up's temporaries (the index
    build's, in its worker thread's arena) leave ~1.3 MB there that an idle bot never reuses."""
    if (libc := _glibc()) is not None:
        libc.malloc_trim(0)


def refuse_if_in_use(database: Path) -> None:
    """Say at once when another Vyraj process holds the database (before reaching Telegram)."""
    try:
        with hold_database_lock(database):
            pass  # nothing of SQLite's is open yet, so closing this descriptor drops no lock
    except DatabaseBusyError as exc:
        raise StartupError(str(exc), EXIT_CONFIG) from None
    except OSError:
        pass  # an unreadable path: the database checks after this say exactly what is wrong


def announce_new_key(path: Path) -> None:
    logger.warning(
        "SECRET_KEY is not set: generated a new one in %s (mode 0600). Back it up: without it "
        "the database cannot be read.",
        path,
    )


def warn_key_with_data(path: Path) -> None:
    logger.warning(
        "The key file %s sits in the database's folder, so a backup of that folder holds both: "
        "keep the key elsewhere (SECRET_KEY, or SECRET_KEY_FILE outside that folder).",
        path,
    )


def prepare_database(settings: Settings, new_files: NewFiles) -> MasterSecret:
    """Check the file at DATABASE_URL and find its key, creating only what a new one needs."""
    path = settings.database_path
    state = _inspect(path)
    if state is DatabaseFile.MISSING:
        _make_folders(path.parent, new_files)
        if os.statvfs(path.parent).f_flag & os.ST_RDONLY:
            raise StartupError(
                f"DATABASE_URL: the folder {path.parent} is on a read-only file system"
            )
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise StartupError(f"DATABASE_URL: the folder {path.parent} is not writable")
        new_files.add(path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
    try:
        master = resolve_master_secret(settings, database_is_new=state is not DatabaseFile.VYRAJ)
    except SecretKeyError as exc:
        raise StartupError(str(exc), EXIT_CONFIG) from None
    if master.generated_at is not None:
        new_files.add(master.generated_at)
    return master


async def open_existing_storage(settings: Settings, *, read_only: bool) -> Storage:
    """The existing database with its key checked (`vyraj digest`); never creates one."""
    if settings.uses_postgres:
        # asyncpg only here; open_on_postgres checks KEY_VAULT_DIR before connecting
        from bot.postgres_start import open_on_postgres

        try:
            key = resolve_master_secret(settings, database_is_new=False)
        except SecretKeyError as exc:
            raise StartupError(str(exc), EXIT_CONFIG) from None
        url, vault = settings.database_url, settings.key_vault_dir
        assert vault is not None  # required with PostgreSQL (settings)
        return await open_on_postgres(lambda: _open_checked(url, vault, key, read_only), url)
    path = settings.database_path
    if _inspect(path) is not DatabaseFile.VYRAJ:
        raise StartupError(
            f"DATABASE_URL: {path} holds no Vyraj data yet (`vyraj run` creates it); "
            "there is nothing to digest"
        )
    try:
        master = resolve_master_secret(settings, database_is_new=False)
    except SecretKeyError as exc:
        raise StartupError(str(exc), EXIT_CONFIG) from None
    storage = await _open(_open_storage(path, settings.database_url, read_only), path)
    try:
        await check_secret_key(storage, Keyring(master.value), record=not read_only)
    except KeyMismatchError as exc:
        await storage.close()
        raise StartupError(str(exc), EXIT_CONFIG) from None
    except BaseException:
        await storage.close()
        raise
    return storage


async def _open_checked(url: str, vault: Path, master: MasterSecret, read_only: bool) -> Storage:
    from storage.postgres import open_postgres  # asyncpg only when it is used

    # Read-only: an outdated schema is refused, never migrated.
    storage = await open_postgres(
        url, pending_responses_key(master.value), vault, upgrade=not read_only
    )
    try:
        await check_secret_key(storage, Keyring(master.value), record=not read_only)
    except BaseException:
        await storage.close()
        raise
    return storage


async def _open_storage(path: Path, url: str, read_only: bool) -> SqliteStorage:
    if not read_only:
        return await open_sqlite(url)
    conn = await connect_read_only(path)
    try:
        version = await schema_version(conn)
    except BaseException:
        await conn.close()
        raise
    if version != len(available_migrations()):
        await conn.close()
        raise StartupError(
            f"DATABASE_URL: {path} is at schema version {version}; "
            "`vyraj run` upgrades it (read-only here)"
        )
    # Reads and (refused) writes alike go to the one read-only connection.
    return SqliteStorage(conn, conn)


async def _open(opening: Awaitable[T], path: Path) -> T:
    """Await `opening`, turning database and key failures into one line."""
    try:
        return await opening
    except KeyMismatchError as exc:
        raise StartupError(str(exc), EXIT_CONFIG) from None
    except sqlite3.DatabaseError as exc:
        raise database_failure(path, exc) from None


def database_failure(path: Path, exc: sqlite3.DatabaseError) -> StartupError:
    if isinstance(exc, sqlite3.OperationalError):
        return StartupError(
            f"DATABASE_URL: {path} cannot be used ({exc}); check free disk space and permissions"
        )
    return StartupError(f"DATABASE_URL: {path} is damaged ({exc}); restore a backup")


def _inspect(path: Path) -> DatabaseFile:
    try:
        return inspect_database(path)
    except DatabaseFileError as exc:
        raise StartupError(f"DATABASE_URL: {exc}") from None


def _make_folders(folder: Path, new_files: NewFiles) -> None:
    missing = [parent for parent in (folder, *folder.parents) if not parent.exists()]
    for parent in reversed(missing):
        try:
            parent.mkdir()
        except OSError as exc:
            raise StartupError(
                f"DATABASE_URL: cannot create the folder {parent} ({exc.strerror})"
            ) from None
        new_files.add(parent)
