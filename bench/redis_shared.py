"""`make bench`: what sharing state through Redis costs per update, against the single-instance
stand-ins, and the send rate two instances reach together under the shared limit.

A redis-server of its own runs on a unix socket with persistence off, as in the tests. Figures:
microseconds per dialogue round trip (set state and data, read them back) in the database and
in Redis, per lock taken and given back, per update_id claimed; and for two senders sharing
the limit, the messages per second reached and the most started in any one-second window.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tests' redis-server helper

from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, StorageKey  # noqa: E402
from aiogram.fsm.storage.redis import RedisEventIsolation  # noqa: E402
from aiogram.types import Update  # noqa: E402
from record import machine, save_results  # noqa: E402
from redis.asyncio import Redis  # noqa: E402

from bot.event_isolation import BoundedEventIsolation  # noqa: E402
from bot.fsm_storage import PseudonymousFsmStorage  # noqa: E402
from bot.shared.redis_fsm import PseudonymousKeyBuilder, SealedRedisStorage  # noqa: E402
from bot.shared.redis_send_window import RedisSendWindow  # noqa: E402
from bot.shared.update_dedupe import FirstDeliveryOnlyMiddleware  # noqa: E402
from services.privacy import Keyring  # noqa: E402
from storage import open_storage  # noqa: E402
from tests.servers.redis import running_redis  # noqa: E402

ROUNDS = 2000
SENDS = 100  # per sender
DATA = {"wave": 1, "answers": '{"status":"left","country":"PL"}', "step": "year", "page": 0}


async def per_call_us(call: Callable[[int], Awaitable[object]], rounds: int = ROUNDS) -> float:
    """Median of five runs' mean microseconds per call."""
    means = []
    for run in range(5):
        started = time.perf_counter()
        for index in range(rounds):
            await call(run * rounds + index)
        means.append((time.perf_counter() - started) / rounds * 1e6)
    return round(statistics.median(means), 1)


def storage_key(index: int) -> StorageKey:
    person = 2**33 + index
    return StorageKey(bot_id=1, chat_id=person, user_id=person)


async def dialogue_round_trip_us(fsm: BaseStorage) -> float:
    async def round_trip(index: int) -> None:
        key = storage_key(index % 500)
        await fsm.set_state(key, "Survey:question")
        await fsm.set_data(key, DATA)
        await fsm.get_state(key)
        await fsm.get_data(key)

    return await per_call_us(round_trip, ROUNDS // 4)


async def lock_us(isolation: BaseEventIsolation) -> float:
    async def lock(index: int) -> None:
        async with isolation.lock(storage_key(index % 500)):
            pass

    return await per_call_us(lock)


async def dedupe_us(redis: Redis) -> float:
    middleware = FirstDeliveryOnlyMiddleware(redis)

    async def handled(event: object, data: dict[str, object]) -> None:
        return None

    async def claim(index: int) -> None:
        await middleware(handled, Update(update_id=10**9 + index), {})

    return await per_call_us(claim)


async def shared_send_rate(url: str) -> dict[str, float]:
    clients = [Redis.from_url(url) for _ in range(2)]
    starts: list[float] = []

    async def sender(window: RedisSendWindow) -> None:
        for _ in range(SENDS):
            await window.acquire()
            starts.append(time.time())
            await window.release()

    try:
        began = time.time()
        await asyncio.gather(*(sender(RedisSendWindow(client, 25)) for client in clients))
        took = time.time() - began
    finally:
        for client in clients:
            await client.aclose(close_connection_pool=True)
    starts.sort()
    most = max(sum(1 for t in starts[i:] if t - s < 1.0) for i, s in enumerate(starts))
    return {
        "messages": len(starts),
        "messages_per_second": round(len(starts) / took, 2),
        "most_in_any_second": most,
    }


async def main() -> None:
    if shutil.which("redis-server") is None:
        print("redis_shared: skipped, redis-server is not installed")
        return
    started = machine()
    keyring = Keyring(b"b" * 32)
    figures: dict[str, object] = {}
    with (
        tempfile.TemporaryDirectory(prefix="redis-") as folder,
        running_redis(Path(folder)) as server,
    ):
        redis = Redis.from_url(server.url)
        storage = await open_storage(f"sqlite:///{folder}/bench.sqlite3")
        try:
            figures["dialogue_round_trip_us"] = {
                "database": await dialogue_round_trip_us(PseudonymousFsmStorage(storage, keyring)),
                "redis": await dialogue_round_trip_us(SealedRedisStorage(redis, keyring)),
            }
            redis_isolation = RedisEventIsolation(redis, PseudonymousKeyBuilder(keyring))
            figures["lock_us"] = {
                "in_process": await lock_us(BoundedEventIsolation()),
                "redis": await lock_us(redis_isolation),
            }
            figures["update_claim_us"] = await dedupe_us(redis)
            figures["two_senders_sharing_25_per_second"] = await shared_send_rate(server.url)
        finally:
            await storage.close()
            await redis.aclose(close_connection_pool=True)
    for name, value in figures.items():
        print(f"{name}: {value}")
    save_results("redis_shared", figures, started)


if __name__ == "__main__":
    asyncio.run(main())
