"""/kbreload over Redis pub/sub: a reload on one instance reloads the guide on the others."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from services.knowledge.articles import ArticleError
from services.knowledge.library import KnowledgeLibrary

logger = logging.getLogger(__name__)

CHANNEL = "vyraj:guide-reloaded"
RECONNECT_SECONDS = 1.0


class RedisGuideReloads:
    """Publishes this instance's reloads and reloads on the others'; `start` subscribes,
    `close` unsubscribes and closes the subscription's connection."""

    def __init__(self, redis: Redis, library: KnowledgeLibrary) -> None:
        self._redis = redis
        self._library = library
        self._instance = uuid.uuid4().hex.encode()  # its own announcements are not news
        self._pubsub: PubSub | None = None
        self._listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(CHANNEL)
        except BaseException:
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # untyped in redis-py
            raise
        self._pubsub = pubsub
        self._listener = asyncio.create_task(self._listen(pubsub), name="guide-reloads")

    async def announce(self) -> None:
        await self._redis.publish(CHANNEL, self._instance)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._pubsub is not None:
            pubsub, self._pubsub = self._pubsub, None
            try:
                with contextlib.suppress(RedisError):  # a lost connection unsubscribed already
                    await pubsub.unsubscribe(CHANNEL)
            finally:
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # untyped in redis-py

    async def _listen(self, pubsub: PubSub) -> None:
        while True:
            try:
                async for message in pubsub.listen():
                    if message.get("data") != self._instance:
                        await self._reload()
            except RedisError as exc:  # listening again reconnects and subscribes again
                logger.warning("Lost the guide-reload channel, listening again: %s", exc)
                await asyncio.sleep(RECONNECT_SECONDS)

    async def _reload(self) -> None:
        try:
            count = await self._library.reload()
        except ArticleError as exc:
            logger.warning("The guide reloaded elsewhere could not be reloaded here: %s", exc)
        else:
            logger.info("Guide reloaded, as another instance did: %d articles", count)
