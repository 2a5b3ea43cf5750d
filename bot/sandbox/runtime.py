"""Run the bot against the local Bot API server on loopback, for the sandbox and tests."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from bot.app import Vyraj, create_vyraj
from bot.health import heartbeat_file_for
from bot.runners import serve_polling, serve_webhook
from bot.sandbox.driver import TelegramUser
from bot.sandbox.server import FakeChat, LocalBotApi
from bot.settings import Settings
from services.clock import Clock, SystemClock


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def local_bot_api(api: LocalBotApi | None = None) -> AsyncIterator[tuple[LocalBotApi, str]]:
    """Serve a LocalBotApi on a free loopback port; yields it and its base URL."""
    api = api or LocalBotApi()
    runner = web.AppRunner(api.app(), handle_signals=False)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield api, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@dataclass
class RunningBot:
    """A bot serving updates from the local server; stop with `stop()`."""

    vyraj: Vyraj
    task: asyncio.Task[None]
    webhook_stop: asyncio.Event | None = None

    async def stop(self) -> None:
        if self.webhook_stop is not None:
            self.webhook_stop.set()
        else:
            await self.vyraj.dispatcher.stop_polling()
        await self.task


@dataclass
class Sandbox:
    """The local server, settings pointing at it, and helpers to act as people."""

    api: LocalBotApi
    api_url: str
    database_path: Path
    # The bot's clock; tests whose outcome depends on the date set a ManualClock.
    clock: Clock = field(default_factory=SystemClock)
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    # Another database than the SQLite file, such as postgresql://...
    database_url: str | None = None
    bot: RunningBot | None = None
    _next_user_id: int = 2**33 + 1001

    def settings(self, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "bot_token": self.api.token,
            "telegram_api_url": self.api_url,
            "database_url": self.database_url or f"sqlite:///{self.database_path}",
            "secret_key": self.secret_key,
            "default_locale": "be",
            "_env_file": None,
        }
        if self.database_url is not None:
            # PostgreSQL's vault and heartbeat, beside the (unused) file, as each test's own.
            values["key_vault_dir"] = self.database_path.with_name("key-vault")
            values["heartbeat_file"] = heartbeat_file_for(self.database_path)
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    async def start_bot(self, *, webhook: bool = False, **overrides: object) -> RunningBot:
        """Start the bot (polling, or webhook on a free port) and wait until it is serving."""
        if webhook:
            port = free_port()
            overrides = {
                "webhook_url": f"http://127.0.0.1:{port}/webhook",
                "webhook_listen": f"127.0.0.1:{port}",
                "webhook_secret": "sandbox-secret",
                **overrides,
            }
        settings = self.settings(**overrides)
        secret = settings.secret_key.get_secret_value().encode()  # type: ignore[union-attr]
        vyraj = await create_vyraj(settings, secret, self.clock)
        stop: asyncio.Event | None = None
        if webhook:
            stop = asyncio.Event()
            task = asyncio.create_task(
                serve_webhook(vyraj, stop=stop, handle_in_background=False, handle_signals=False)
            )
        else:
            task = asyncio.create_task(
                serve_polling(vyraj, handle_as_tasks=False, handle_signals=False)
            )
        waiter = asyncio.create_task(vyraj.serving.wait())
        done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            waiter.cancel()
            task.result()  # raises what stopped it
        self.bot = RunningBot(vyraj, task, stop)
        return self.bot

    async def stop_bot(self) -> None:
        if self.bot is not None:
            await self.bot.stop()
            self.bot = None

    def user(
        self,
        first_name: str = "Alesia",
        *,
        language_code: str | None = "be",
        user_id: int | None = None,
    ) -> TelegramUser:
        """A new person with a large id (above 2^32) in a private chat with the bot."""
        if user_id is None:
            user_id = self._next_user_id
            self._next_user_id += 7919
        return TelegramUser(self.api, self.api.add_user(user_id, first_name, language_code))

    async def group(
        self,
        title: str,
        *,
        added_by: TelegramUser,
        kind: str = "supergroup",
        forum: bool = False,
        bot_status: str = "member",
    ) -> FakeChat:
        """A group (a forum supergroup, if `forum`) with `added_by` as its creator, and the bot
        added to it (as a member, or as `bot_status` says)."""
        chat_id = -(10**12) - len(self.api.chats) - 1
        chat = self.api.create_group(chat_id, title, kind=kind, forum=forum)
        chat.statuses[added_by.user.id] = "creator"
        update_id = await self.api.push_update(
            self.api.bot_membership_update(chat, added_by.user, bot_status)
        )
        if self.bot is not None:
            await self.api.wait_processed(update_id)
        return chat

    async def channel(self, title: str, *, owner: TelegramUser) -> FakeChat:
        """A channel owned by `owner`, with the bot added as an administrator."""
        chat = self.api.create_group(-(10**12) - len(self.api.chats) - 1, title, kind="channel")
        chat.statuses[owner.user.id] = "creator"
        update_id = await self.api.push_update(
            self.api.bot_membership_update(chat, owner.user, "administrator")
        )
        if self.bot is not None:
            await self.api.wait_processed(update_id)
        return chat


@contextlib.asynccontextmanager
async def open_sandbox(
    database_path: Path, clock: Clock | None = None, *, database_url: str | None = None
) -> AsyncIterator[Sandbox]:
    """The local server and a sandbox on it; the bot and the server read `clock` (the
    system's by default); `database_url` puts the bot on another database than the file."""
    clock = clock or SystemClock()
    async with local_bot_api(LocalBotApi(clock=clock)) as (api, url):
        sandbox = Sandbox(api, url, database_path, clock, database_url=database_url)
        try:
            yield sandbox
        finally:
            await sandbox.stop_bot()
