"""Memory bounded by design: the per-person lock table holds only locks in use, and no more than
MAX_CONCURRENT_UPDATES updates are handled at once, in polling and in webhook mode."""

from __future__ import annotations

import asyncio

from aiogram.fsm.storage.base import StorageKey

from bot.app import Vyraj, create_vyraj
from bot.event_isolation import BoundedEventIsolation
from bot.runners import serve_polling, serve_webhook
from bot.sandbox.runtime import Sandbox, free_port

BOT_ID = 7000000001


def key(user_id: int) -> StorageKey:
    return StorageKey(bot_id=BOT_ID, chat_id=user_id, user_id=user_id)


async def test_one_update_at_a_time_per_person_and_no_lock_kept_afterwards() -> None:
    isolation = BoundedEventIsolation()
    order: list[str] = []
    first_inside, release_first = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with isolation.lock(key(1)):
            order.append("first in")
            first_inside.set()
            await release_first.wait()
            order.append("first out")

    async def second() -> None:
        async with isolation.lock(key(1)):
            order.append("second in")

    async def someone_else() -> None:
        async with isolation.lock(key(2)):
            order.append("other in")

    tasks = [asyncio.create_task(first())]
    await first_inside.wait()
    tasks.append(asyncio.create_task(second()))
    await someone_else()  # another person is not held up
    assert isolation.size == 1  # only the lock still in use
    release_first.set()
    await asyncio.gather(*tasks)
    assert order == ["first in", "other in", "first out", "second in"]
    assert isolation.size == 0


async def test_a_waiter_cancelled_in_the_queue_leaves_no_lock_behind() -> None:
    isolation = BoundedEventIsolation()
    holding = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:
        async with isolation.lock(key(1)):
            holding.set()
            await release.wait()

    async def wait_in_line() -> None:
        async with isolation.lock(key(1)):
            raise AssertionError("never reached")

    holder = asyncio.create_task(hold())
    await holding.wait()
    waiter = asyncio.create_task(wait_in_line())
    await asyncio.sleep(0)  # let it queue on the lock
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    release.set()
    await holder
    assert isolation.size == 0


async def test_thousands_of_people_leave_an_empty_lock_table(running: Sandbox) -> None:
    assert running.bot is not None
    isolation = running.bot.vyraj.dispatcher.fsm.events_isolation
    assert isinstance(isolation, BoundedEventIsolation)
    people = [running.user(f"P{i}", language_code="en") for i in range(30)]
    for person in people:
        await person.send("/start")
    assert all("Vyraj" in person.last_text for person in people)
    assert isolation.size == 0


async def most_in_flight_during_a_burst(sandbox: Sandbox, vyraj: Vyraj, burst: int = 12) -> int:
    """Push `burst` /start messages whose replies the server holds a while; the largest number
    of updates the bot handled at once, seen at every Bot API call."""
    await vyraj.serving.wait()
    people = [sandbox.user(f"B{i}", language_code="en") for i in range(burst)]
    sandbox.api.slow_next("sendMessage", seconds=0.2, count=burst)
    most = 0

    def all_answered() -> bool:
        nonlocal most
        most = max(most, vyraj.tracker.in_flight)
        return all(person.bot_messages for person in people)

    for person in people:
        await sandbox.api.push_update(
            sandbox.api.message_update(person.user, person.chat, {"text": "/start"})
        )
    await sandbox.api.wait_until(all_answered, timeout=30)
    return most


async def test_polling_handles_at_most_the_bound_at_once(sandbox: Sandbox) -> None:
    settings = sandbox.settings(max_concurrent_updates=3)
    vyraj = await create_vyraj(settings, sandbox.secret_key.encode(), sandbox.clock)
    task = asyncio.create_task(serve_polling(vyraj, handle_as_tasks=True, handle_signals=False))
    try:
        most = await most_in_flight_during_a_burst(sandbox, vyraj)
    finally:
        await vyraj.dispatcher.stop_polling()
        await task
    assert 2 <= most <= 3  # concurrent, and bounded


async def test_a_webhook_in_the_background_handles_at_most_the_bound_at_once(
    sandbox: Sandbox,
) -> None:
    port = free_port()
    settings = sandbox.settings(
        max_concurrent_updates=3,
        webhook_url=f"http://127.0.0.1:{port}/webhook",
        webhook_listen=f"127.0.0.1:{port}",
        webhook_secret="sandbox-secret",
    )
    vyraj = await create_vyraj(settings, sandbox.secret_key.encode(), sandbox.clock)
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve_webhook(vyraj, stop=stop, handle_in_background=True, handle_signals=False)
    )
    try:
        most = await most_in_flight_during_a_burst(sandbox, vyraj)
    finally:
        stop.set()
        await task
    assert 2 <= most <= 3
