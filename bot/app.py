"""Factories: the bot, the dispatcher, and the running application that owns them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.utils.callback_answer import CallbackAnswerMiddleware
from aiogram.utils.i18n import I18n

from bot.backup import take_daily_backup
from bot.broadcast import WaveBroadcaster
from bot.chart_process import ChartProcess
from bot.chat_admins import ChatAdminCache
from bot.commands import bot_commands
from bot.dependencies import Dependencies
from bot.digest import DigestService
from bot.filters_on_loop import check_filters_on_loop
from bot.fsm_storage import UpdateScopedFsmMiddleware
from bot.heartbeat import HeartbeatMiddleware
from bot.i18n import PreferredLocaleMiddleware, create_i18n
from bot.middlewares import IgnoreBotsMiddleware, InFlightTracker
from bot.package_data import package_folder
from bot.poll_actions import PollActions
from bot.router_gates import gate_message_routers
from bot.scheduler import Scheduler
from bot.settings import LOCALES, Settings
from bot.shared.services import SharedServices, in_process, over_redis
from bot.update_reader import UpdateSkippingSession
from handlers import get_routers
from services.claims import Claims
from services.clock import Clock, SystemClock
from services.knowledge.library import KnowledgeLibrary
from services.knowledge.reader_notes import NoteQuota
from services.knowledge.view_counts import ViewCounts
from services.policy import Policy
from services.privacy import Keyring, derive_key
from services.survey.waves import publish_due_snapshots
from storage import Storage, open_storage

logger = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 30.0
# Claims on shared work lapse by real time, whatever clock the bot reads: they say whether
# the instance holding them is still alive.
CLAIM_TIME = SystemClock()
KNOWLEDGE_DIR = package_folder("bot.knowledge")


class KeyMismatchError(Exception):
    """SECRET_KEY is not the key this database was created with."""


@dataclass
class Vyraj:
    """A configured bot ready to serve: owns the database until `close`."""

    settings: Settings
    bot: Bot
    dispatcher: Dispatcher
    storage: Storage
    keyring: Keyring
    tracker: InFlightTracker
    broadcaster: WaveBroadcaster
    scheduler: Scheduler
    poll_actions: PollActions
    digest_service: DigestService
    i18n: I18n
    claims: Claims
    shared: SharedServices
    charts: ChartProcess
    view_counts: ViewCounts
    owns_storage: bool = True  # False when the storage was handed in, shared with others
    closed: bool = False
    # Set on the event loop once every start-up step succeeded and the heartbeat is in place:
    # what waiters such as the sandbox wait for. aiogram runs plain-function startup hooks in a
    # thread, so mark_started is async.
    serving: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def started(self) -> bool:
        return self.serving.is_set()

    async def mark_started(self) -> None:
        # `vyraj health` reads this file to tell a bot that reaches Telegram from a stuck one;
        # it starts only now (the start-up calls just succeeded), so a failed start leaves none.
        path = self.settings.heartbeat_path
        with contextlib.suppress(OSError):
            path.touch()
        self.bot.session.middleware(HeartbeatMiddleware(path))
        self.serving.set()

    async def close(self) -> None:
        """Stop the background work and close the database and the bot session; idempotent."""
        if self.closed:
            return
        self.closed = True
        await self.broadcaster.stop()
        self.scheduler.shutdown()
        await self.poll_actions.stop()
        await self.charts.close()
        try:
            await self.view_counts.close()
        except Exception:  # the database is closed and the session too, whatever this does
            logger.exception("Article views of the last seconds could not be written")
        try:
            await self.shared.close()
        finally:
            try:
                if self.owns_storage:
                    await self.storage.close()
            finally:
                await self.bot.session.close()
        if self.started:  # a failed start says only why it failed
            logger.info("Database closed")


def create_bot(settings: Settings) -> Bot:
    if settings.bot_token is None:
        raise ValueError("BOT_TOKEN is not set")
    session = UpdateSkippingSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def policy_of(settings: Settings) -> Policy:
    return Policy(
        admin_ids=settings.admin_ids,
        min_cell_size=settings.min_cell_size,
        kb_stale_days=settings.kb_stale_days,
        timezone=ZoneInfo(settings.timezone),
    )


def create_dispatcher(
    *,
    dependencies: Dependencies,
    i18n: I18n,
    tracker: InFlightTracker,
    shared: SharedServices,
) -> Dispatcher:
    storage, keyring = dependencies["storage"], dependencies["keyring"]
    fsm_storage, isolation = shared.fsm_storage, shared.events_isolation
    # aiogram's own FSM middleware is left out for ours, which reads each dialogue once.
    dispatcher = Dispatcher(storage=fsm_storage, events_isolation=isolation, disable_fsm=True)
    if shared.update_filter is not None:  # first: a repeat takes no lock and reads nothing
        dispatcher.update.outer_middleware(shared.update_filter)
    dispatcher.fsm = UpdateScopedFsmMiddleware(storage=fsm_storage, events_isolation=isolation)
    dispatcher.update.outer_middleware(dispatcher.fsm)
    # Handed to handlers as keyword arguments. Handlers ask for `storage`; aiogram hands its
    # FSM storage over as `fsm_storage`.
    dispatcher.workflow_data.update(dependencies)
    dispatcher.update.outer_middleware(tracker)
    ignore_bots = IgnoreBotsMiddleware()
    for observer in (dispatcher.message, dispatcher.callback_query, dispatcher.inline_query):
        observer.outer_middleware(ignore_bots)
    PreferredLocaleMiddleware(i18n, storage.preferences, keyring).setup(dispatcher)
    dispatcher.callback_query.middleware(CallbackAnswerMiddleware())  # answers every press once
    dispatcher.include_routers(*get_routers())
    gate_message_routers(dispatcher)  # first: it reads the State filters this hides
    check_filters_on_loop(dispatcher)
    return dispatcher


async def set_commands(bot: Bot, i18n: I18n) -> None:
    """Publish the command menu in every locale, and the default locale for everyone else."""
    with i18n.context():
        for locale in LOCALES:
            with i18n.use_locale(locale):
                await bot.set_my_commands(bot_commands(), language_code=locale)
        with i18n.use_locale(i18n.default_locale):
            await bot.set_my_commands(bot_commands())


def create_digest_service(
    bot: Bot | None,
    storage: Storage,
    library: KnowledgeLibrary,
    i18n: I18n,
    settings: Settings,
    clock: Clock,
    charts: ChartProcess,
    view_counts: ViewCounts,
) -> DigestService:
    return DigestService(
        bot,
        storage,
        library,
        i18n,
        k=settings.min_cell_size,
        chat_id=settings.digest_chat_id,
        thread_id=settings.digest_thread_id,
        locale=settings.effective_digest_locale,
        schedule=settings.digest_schedule,
        timezone=settings.timezone,
        grace=settings.digest_grace,
        clock=clock,
        charts=charts,
        view_counts=view_counts,
    )


def pending_responses_key(master_secret: bytes) -> bytes:
    """Seals PostgreSQL's survey responses awaiting publication (unused on SQLite)."""
    return derive_key(master_secret, "postgres pending responses")


async def check_secret_key(storage: Storage, keyring: Keyring, *, record: bool = True) -> None:
    """Refuse to start with a key that cannot read this database's pseudonyms; a database
    without a check value gets one unless `record` is false (read-only)."""
    expected = await storage.meta.get("key_check")
    actual = keyring.check_value()
    if expected is None:
        if not record:
            return
        async with storage.transaction() as tx:
            await tx.meta.set("key_check", actual)
    elif expected != actual:
        raise KeyMismatchError(
            "SECRET_KEY: does not match the key this database was created with "
            "(restore the original key or use another DATABASE_URL)"
        )


async def create_vyraj(
    settings: Settings,
    master_secret: bytes,
    clock: Clock | None = None,
    *,
    library: KnowledgeLibrary | None = None,
    shared_storage: Storage | None = None,
) -> Vyraj:
    """Open the database, check the key, build the bot and the dispatcher; `clock` is the
    system's unless a test or the sandbox sets one; the guide is read (off the event loop)
    unless `library` already holds it. With `shared_storage` (several instances in one
    process, in tests) this instance uses that one and leaves closing it to its owner."""
    clock = clock or SystemClock()
    storage = shared_storage or await open_storage(
        settings.database_url,
        pending_key=pending_responses_key(master_secret),
        key_vault=settings.key_vault_dir,
    )
    shared: SharedServices | None = None
    try:
        keyring = Keyring(master_secret)
        await check_secret_key(storage, keyring)
        i18n = create_i18n(settings.default_locale)
        tracker = InFlightTracker()
        library = library or await KnowledgeLibrary.open(settings.knowledge_dir or KNOWLEDGE_DIR)
        shared = (
            in_process(storage, keyring)
            if settings.redis_url is None
            else over_redis(settings.redis_url.get_secret_value(), keyring, library)
        )
        bot = create_bot(settings)
        policy = policy_of(settings)
        claims = Claims(storage, CLAIM_TIME)
        broadcaster = WaveBroadcaster(bot, storage, keyring, i18n, claims, shared.send_limit)
        scheduler = Scheduler(settings.timezone, clock)
        charts = ChartProcess()  # its process starts at the first chart
        view_counts = ViewCounts(storage)
        digest_service = create_digest_service(
            bot, storage, library, i18n, settings, clock, charts, view_counts
        )
        poll_actions = PollActions(
            bot, storage, keyring, i18n, scheduler, policy, clock,
            settings.census_refresh_seconds, charts, claims,
            shared.refresh_claims, shared.send_limit,
        )  # fmt: skip
        dependencies = Dependencies(
            storage=storage,
            keyring=keyring,
            policy=policy,
            clock=clock,
            library=library,
            guide_reloads=shared.guide_reloads,
            chat_admins=ChatAdminCache(settings.admin_ids),
            broadcaster=broadcaster,
            wave_dialogues=shared.wave_dialogues,
            digest_service=digest_service,
            poll_actions=poll_actions,
            note_quota=NoteQuota(),
            view_counts=view_counts,
        )
        dispatcher = create_dispatcher(
            dependencies=dependencies, i18n=i18n, tracker=tracker, shared=shared
        )
    except BaseException:
        try:
            if shared is not None:
                await shared.close()
        finally:
            if shared_storage is None:
                await storage.close()
        raise
    vyraj = Vyraj(
        settings=settings,
        bot=bot,
        dispatcher=dispatcher,
        storage=storage,
        keyring=keyring,
        tracker=tracker,
        broadcaster=broadcaster,
        scheduler=scheduler,
        poll_actions=poll_actions,
        digest_service=digest_service,
        i18n=i18n,
        claims=claims,
        owns_storage=shared_storage is None,
        shared=shared,
        charts=charts,
        view_counts=view_counts,
    )
    scheduler.set_poll_closer(poll_actions.close_claimed)
    scheduler.schedule_digest(
        digest_service.trigger, digest_service.run_due, settings.digest_grace
    )

    async def sweep() -> None:
        # Work another instance scheduled or started, and died before doing, is done here.
        await poll_actions.close_due()
        await broadcaster.resume()

    scheduler.schedule_sweep(sweep)
    if (backup_dir := settings.backup_dir) is not None:
        scheduler.schedule_daily_backup(lambda: take_daily_backup(settings, backup_dir, clock))

    async def on_startup() -> None:
        await shared.start()  # before anything else that could reload or send
        # Waves stored before snapshots existed get their first published figures.
        await publish_due_snapshots(storage, settings.min_cell_size)
        # Carry on telling subscribers about the open wave if a restart interrupted it.
        await broadcaster.resume()
        scheduler.start()
        # Results a crash or an outage left unposted go out now (never twice: see poll_results).
        poll_actions.resume_results()
        # Polls whose close time passed while the bot was down are closed now.
        await scheduler.restore_poll_closes(storage)
        # A digest cut short or missed while the bot was down goes out now, within DIGEST_GRACE.
        await digest_service.finish_unfinished()
        await digest_service.run_due()
        logger.info("Vyraj is up")

    async def on_shutdown() -> None:
        await broadcaster.stop()
        scheduler.shutdown()
        await poll_actions.stop()
        if not await tracker.wait_idle(SHUTDOWN_GRACE_SECONDS):
            logger.warning("%d updates still running at shutdown", tracker.in_flight)
        # What this instance held, another may take up at once rather than once it lapses.
        await claims.give_up_all()
        await vyraj.close()

    dispatcher.startup.register(on_startup)
    dispatcher.shutdown.register(on_shutdown)
    return vyraj
