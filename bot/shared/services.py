"""What instances share, built once per application: in process, or in Redis with REDIS_URL.
The Redis client is imported only with REDIS_URL: a single instance does without it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiogram import BaseMiddleware
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage

from bot.broadcast import MESSAGES_PER_SECOND, SendWindow
from bot.event_isolation import BoundedEventIsolation
from bot.fsm_storage import PseudonymousFsmStorage
from bot.shared.guide_reloads import GuideReloads, LocalGuideReloads
from bot.shared.refresh_claims import LocalRefreshClaims, RefreshClaims
from bot.shared.send_limit import SendLimit
from bot.shared.wave_dialogues import DatabaseWaveDialogues, WaveDialogues
from services.knowledge.library import KnowledgeLibrary
from services.privacy import Keyring
from storage import Storage

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from bot.shared.redis_guide_reloads import RedisGuideReloads


@dataclass
class SharedServices:
    """Dialogue state and locks, census refresh claims, the send limit, guide reloads and
    the closing of a wave's dialogues; `update_filter` drops repeated updates when several
    instances may receive them."""

    fsm_storage: BaseStorage
    events_isolation: BaseEventIsolation
    refresh_claims: RefreshClaims
    send_limit: SendLimit
    guide_reloads: GuideReloads
    wave_dialogues: WaveDialogues
    update_filter: BaseMiddleware | None = None
    redis: Redis | None = None
    reload_listener: RedisGuideReloads | None = None

    async def start(self) -> None:
        """Subscribe to the other instances' guide reloads."""
        if self.reload_listener is not None:
            await self.reload_listener.start()

    async def close(self) -> None:
        """Unsubscribe and close the connection to Redis; idempotent."""
        listener, self.reload_listener = self.reload_listener, None
        redis, self.redis = self.redis, None
        try:
            if listener is not None:
                await listener.close()
        finally:
            if redis is not None:
                await redis.aclose(close_connection_pool=True)


def in_process(storage: Storage, keyring: Keyring) -> SharedServices:
    """One instance: dialogue state in the database, everything else in memory."""
    return SharedServices(
        fsm_storage=PseudonymousFsmStorage(storage, keyring),
        events_isolation=BoundedEventIsolation(),
        refresh_claims=LocalRefreshClaims(),
        send_limit=SendWindow(MESSAGES_PER_SECOND),
        guide_reloads=LocalGuideReloads(),
        wave_dialogues=DatabaseWaveDialogues(),
    )


def over_redis(url: str, keyring: Keyring, library: KnowledgeLibrary) -> SharedServices:
    """Several instances: everything they share in the Redis at `url` (no connection yet)."""
    from aiogram.fsm.storage.redis import RedisEventIsolation
    from redis.asyncio import Redis

    from bot.shared.redis_fsm import (
        LOCK_TIMEOUT_SECONDS,
        PseudonymousKeyBuilder,
        SealedRedisStorage,
    )
    from bot.shared.redis_guide_reloads import RedisGuideReloads
    from bot.shared.redis_refresh_claims import RedisRefreshClaims
    from bot.shared.redis_send_window import RedisSendWindow
    from bot.shared.update_dedupe import FirstDeliveryOnlyMiddleware

    redis = Redis.from_url(url)
    reloads = RedisGuideReloads(redis, library)
    dialogues = SealedRedisStorage(redis, keyring)
    return SharedServices(
        fsm_storage=dialogues,
        events_isolation=RedisEventIsolation(
            redis, PseudonymousKeyBuilder(keyring), {"timeout": LOCK_TIMEOUT_SECONDS}
        ),
        refresh_claims=RedisRefreshClaims(redis),
        send_limit=RedisSendWindow(redis, MESSAGES_PER_SECOND),
        guide_reloads=reloads,
        wave_dialogues=dialogues,
        update_filter=FirstDeliveryOnlyMiddleware(redis),
        redis=redis,
        reload_listener=reloads,
    )
