"""The `vyraj` command: run the bot, or chat with it in a terminal sandbox."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.log_redaction import setup_logging
from bot.settings import SettingsError, load_settings

EXIT_CONFIG = 2

NO_TOKEN = (
    "BOT_TOKEN: not set. Create a bot with @BotFather in Telegram (/newbot), put its token in "
    "BOT_TOKEN (environment or .env), and run again. To try Vyraj without a token: vyraj sandbox"
)


# backup and restore work on the SQLite file; PostgreSQL has its own tools.
POSTGRES_HAS_NO_FILE = "DATABASE_URL is PostgreSQL: {what} (see README.md, Several instances)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vyraj",
        description="Vyraj: a Telegram bot for the Belarusian IT diaspora.",
        epilog="Settings come from the environment or .env; see README.md and .env.example.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "run", help="run the bot for real (long polling, or a webhook when WEBHOOK_URL is set)"
    )
    commands.add_parser(
        "set-webhook",
        help="register WEBHOOK_URL and WEBHOOK_SECRET with Telegram now (once per deployment)",
    )
    sandbox = commands.add_parser(
        "sandbox", help="chat with the bot in this terminal; no Telegram token needed"
    )
    sandbox.add_argument("--db", type=Path, help="keep the sandbox database in this file")
    sandbox.add_argument(
        "--script",
        type=Path,
        help="feed the lines of FILE instead of the keyboard and print a transcript",
    )
    digest = commands.add_parser(
        "digest", help="post the digest to DIGEST_CHAT_ID now, or print it (--dry-run)"
    )
    mode = digest.add_mutually_exclusive_group(required=True)
    mode.add_argument("--now", action="store_true", help="post it now and exit")
    mode.add_argument(
        "--dry-run", action="store_true", help="print the text; nothing is posted or recorded"
    )
    digest.add_argument("--chart", type=Path, help="with --dry-run: write the chart PNG here")
    commands.add_parser(
        "health", help="exit 0 if the database opens and the bot reached the Bot API lately"
    )
    backup = commands.add_parser(
        "backup", help="copy the database consistently, even while the bot runs (never the key)"
    )
    backup.add_argument(
        "path", help="the copy's file, or a folder to name one in (ending in / creates it)"
    )
    backup.add_argument("--force", action="store_true", help="replace an existing file")
    restore = commands.add_parser(
        "restore", help="check a backup against the key and put it in place (bot stopped)"
    )
    restore.add_argument("path", type=Path, help="a file written by vyraj backup")
    migrate_db = commands.add_parser(
        "migrate-db",
        help="copy an SQLite database into a new, empty PostgreSQL database (bot stopped)",
    )
    migrate_db.add_argument("source", help="sqlite:///path/to/vyraj.sqlite3")
    migrate_db.add_argument("target", help="postgresql://user@host/database (empty)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return run_subcommand(parser, args)
    except KeyboardInterrupt:  # Ctrl-C while modules load, before our handlers are set
        print("Stopped by SIGINT", file=sys.stderr)
        return 0


def run_subcommand(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command == "run":
        return run_command()
    if args.command == "set-webhook":
        return set_webhook_command()
    if args.command == "sandbox":
        return sandbox_command(args.db, args.script)
    if args.command == "digest":
        return digest_command(dry_run=args.dry_run, chart=args.chart)
    if args.command == "health":
        return health_command()
    if args.command == "backup":
        return backup_command(args.path, force=args.force)
    if args.command == "restore":
        return restore_command(args.path)
    if args.command == "migrate-db":
        return migrate_db_command(args.source, args.target)
    parser.print_help()
    return 0


def run_command() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    if settings.bot_token is None:
        print(NO_TOKEN, file=sys.stderr)
        return EXIT_CONFIG
    # aiogram takes seconds to import: only after the settings are known to be good.
    from bot.startup import run_bot

    setup_logging()
    return run_start_up(lambda: run_bot(settings))


def set_webhook_command() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    if settings.bot_token is None or settings.webhook_url is None:
        print("BOT_TOKEN and WEBHOOK_URL: both are needed to set the webhook", file=sys.stderr)
        return EXIT_CONFIG
    from bot.webhook_setup import set_webhook

    setup_logging()
    return run_start_up(lambda: set_webhook(settings))


def digest_command(*, dry_run: bool, chart: Path | None) -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    if not dry_run and (settings.bot_token is None or settings.digest_chat_id is None):
        print(
            "DIGEST_CHAT_ID and BOT_TOKEN: both are needed to post the digest "
            "(or use --dry-run to print it)",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    from bot.digest_command import post_digest, print_digest

    setup_logging()
    if dry_run:
        return run_start_up(lambda: print_digest(settings, chart))
    return run_start_up(lambda: post_digest(settings))


def run_start_up(main: Callable[[], Awaitable[int | None]]) -> int:
    """Run `main`; a failed start (or a stop signal during it) is one line, never a traceback."""
    from bot.telegram_retry import StartupError

    stopped_by: list[signal.Signals] = []

    async def guarded() -> int | None:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            # Replaced by the runners' own handlers once the bot serves.
            loop.add_signal_handler(signum, _cancel, task, signum, stopped_by)
        return await main()

    try:
        return asyncio.run(guarded()) or 0
    except StartupError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code
    except (asyncio.CancelledError, KeyboardInterrupt):
        cause = stopped_by[0].name if stopped_by else "an interrupt"
        print(f"Stopped by {cause} before start-up finished", file=sys.stderr)
        return 0


def _cancel(
    task: asyncio.Task[int | None], signum: signal.Signals, log: list[signal.Signals]
) -> None:
    log.append(signum)
    task.cancel()


def health_command() -> int:
    """For container health checks: one line, exit 0 (healthy) or 1."""
    from bot.health import (
        HEALTHY_WITHIN_SECONDS,
        UnhealthyError,
        check_heartbeat,
        check_postgres,
        check_sqlite,
        healthy_line,
    )

    try:
        settings = load_settings()
        if settings.uses_postgres:
            asyncio.run(check_postgres(settings.database_url))
        else:
            check_sqlite(settings.database_path)
        # A webhook bot calls the Bot API only when updates come: its heartbeat may be old.
        max_age = None if settings.webhook_url else HEALTHY_WITHIN_SECONDS
        age = check_heartbeat(settings.heartbeat_path, now=time.time(), max_age=max_age)
        print(healthy_line(age))
    except (SettingsError, UnhealthyError) as exc:
        print(f"unhealthy: {exc}")
        return 1
    return 0


def backup_command(path: str, *, force: bool) -> int:
    """One line on a refusal; else where the copy is, and where the key is that it lacks."""
    from bot.backup import back_up, key_location
    from storage.sqlite.backup import UnusableCopyError

    target = Path(path)
    try:
        settings = load_settings()
        if settings.uses_postgres:
            raise UnusableCopyError(POSTGRES_HAS_NO_FILE.format(what="pg_dump backs it up"))
        if path.endswith("/"):
            target.mkdir(mode=0o700, parents=True, exist_ok=True)
        written = back_up(settings, target, force=force, now=dt.datetime.now(dt.UTC))
    except (SettingsError, UnusableCopyError) as exc:
        print(f"backup refused: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"backup refused: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"Backed up {settings.database_path} to {written}.")
    print(
        f"The key is not in the backup: it is {key_location(settings)}. Keep a copy of the key "
        "stored apart from the backups: without it a backup cannot be restored, and the two "
        "together open what the database keeps sealed."
    )
    return 0


def restore_command(copy: Path) -> int:
    """Refuse in one line, or put the backup in place and say where the old file is kept."""
    from bot.backup import RefusedError, restore
    from bot.instance_lock import DatabaseBusyError
    from storage.sqlite.backup import UnusableCopyError

    try:
        settings = load_settings()
        if settings.uses_postgres:
            raise UnusableCopyError(POSTGRES_HAS_NO_FILE.format(what="pg_restore restores it"))
        kept = restore(settings, copy, now=dt.datetime.now(dt.UTC))
    except (SettingsError, RefusedError, UnusableCopyError, DatabaseBusyError) as exc:
        print(f"restore refused: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"restore refused: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"Restored {copy} into {settings.database_path}.")
    if kept is not None:
        print(f"The database it replaced is kept as {kept}.")
    return 0


def migrate_db_command(source: str, target: str) -> int:
    """Copy SQLite into PostgreSQL; one line either way, never the target's password."""
    import sqlite3

    import asyncpg

    from storage.opening import backend_of, describe_server, sqlite_path_from_url
    from storage.postgres.key_vault import KeyVaultError
    from storage.postgres.transfer import TransferRefusedError, copy_sqlite_to_postgres

    try:
        if backend_of(source) != "sqlite" or backend_of(target) != "postgres":
            raise ValueError("give an sqlite:/// SOURCE and a postgresql:// TARGET")
        path = sqlite_path_from_url(source)
        if not path.is_file():
            raise ValueError(f"{path}: no such file")
        vault = load_settings().key_vault_dir
        if vault is None:
            raise ValueError(
                "KEY_VAULT_DIR: required (the folder the bots will share): the copy's open "
                "wave and census poll keys are wrapped under keys kept there"
            )
        copied = asyncio.run(copy_sqlite_to_postgres(path, target, vault))
    except (ValueError, TransferRefusedError, SettingsError, KeyVaultError) as exc:
        print(f"migrate-db refused: {exc}", file=sys.stderr)
        return 1
    except (OSError, sqlite3.Error, asyncpg.PostgresError) as exc:
        print(
            f"migrate-db failed: {describe_server(target)}: {type(exc).__name__}: {exc}",
            file=sys.stderr,
        )
        return 1
    print(
        f"Copied {copied.rows} rows of {copied.tables} tables from {path} into "
        f"{describe_server(target)}. Set DATABASE_URL to it and keep the same SECRET_KEY."
    )
    return 0


def sandbox_command(database: Path | None, script: Path | None) -> int:
    from bot.sandbox.terminal import run_terminal

    logging.basicConfig(level=logging.CRITICAL)
    try:
        if script is not None:
            lines = script.read_text("utf-8").splitlines()
            return asyncio.run(run_terminal(lines, database=database, echo=True))
        if not sys.stdin.isatty():
            return asyncio.run(
                run_terminal(sys.stdin.read().splitlines(), database=database, echo=True)
            )
        return asyncio.run(run_terminal(None, database=database))
    except KeyboardInterrupt:
        # Ctrl-C is how a terminal session ends; the bot and database were closed on the way out.
        print()
        return 0
