"""Two instances in webhook mode behind one URL, sharing one storage (in one process: the
multi-process test on PostgreSQL comes with that backend). The local server spreads updates
round-robin between them; each scheduled job's effect happens once."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from bot.app import CLAIM_TIME, KNOWLEDGE_DIR, Vyraj, create_vyraj
from bot.runners import serve_webhook
from bot.sandbox.runtime import Sandbox, free_port
from bot.sandbox.server import FakeChat
from bot.webhook_setup import WEBHOOK_CLAIM
from services.claims import Claims, poll_close_claim, wave_broadcast_claim
from services.clock import ManualClock
from services.knowledge.library import KnowledgeLibrary
from services.survey.subscriptions import subscribe
from storage import Storage, open_storage
from tests.test_broadcast_window import delivered, most_in_one_second, notices
from tests.test_digest import NEW_YEAR, YEARLY, channel_posts, recorded

K = 5
RESULTS = "📊 Results:"


@contextlib.asynccontextmanager
async def two_instances(
    sandbox: Sandbox,
    *,
    prepare: Callable[[Storage], Awaitable[object]] | None = None,
    **overrides: object,
) -> AsyncIterator[list[Vyraj]]:
    """Two Vyraj instances serving webhooks on one storage (given to `prepare` first); the
    first one's address stands for the load balancer's public URL, and the server sends
    every other update to the second."""
    storage = await open_storage(f"sqlite:///{sandbox.database_path}")
    if prepare is not None:
        await prepare(storage)
    library = await KnowledgeLibrary.open(KNOWLEDGE_DIR)
    ports = [free_port(), free_port()]
    public_url = f"http://127.0.0.1:{ports[0]}/webhook"
    stop = asyncio.Event()
    serving: list[asyncio.Task[None]] = []
    instances: list[Vyraj] = []
    try:
        for port in ports:
            settings = sandbox.settings(
                webhook_url=public_url,
                webhook_listen=f"127.0.0.1:{port}",
                webhook_secret="sandbox-secret",
                min_cell_size=K,
                default_locale="en",
                **overrides,
            )
            vyraj = await create_vyraj(
                settings,
                sandbox.secret_key.encode(),
                sandbox.clock,
                library=library,
                shared_storage=storage,
            )
            task = asyncio.create_task(
                serve_webhook(vyraj, stop=stop, handle_in_background=False, handle_signals=False)
            )
            serving.append(task)
            up = asyncio.create_task(vyraj.serving.wait())
            done, _ = await asyncio.wait({task, up}, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                up.cancel()
                task.result()
            instances.append(vyraj)
        sandbox.api.extra_webhook_urls.append(f"http://127.0.0.1:{ports[1]}/webhook")
        yield instances
    finally:
        stop.set()
        await asyncio.gather(*serving, return_exceptions=True)
        await storage.close()


def calls(sandbox: Sandbox, method: str) -> list[Any]:
    return [call for call in sandbox.api.calls if call.method == method]


def results_posted(sandbox: Sandbox, chat: FakeChat) -> list[dict[str, Any]]:
    return [
        message
        for (chat_id, _), message in sorted(sandbox.api.messages.items())
        if chat_id == chat.id
        and str(message.get("text") or message.get("caption") or "").startswith(RESULTS)
    ]


async def test_the_webhook_is_set_once_and_updates_reach_both_instances(
    sandbox: Sandbox,
) -> None:
    async with two_instances(sandbox):
        assert len(calls(sandbox, "setWebhook")) == 1  # the second found it in place
        for _ in range(4):
            user = sandbox.user(language_code="en")
            await user.send("/start")
            assert "Hello! I am Vyraj" in user.last_text
        assert sandbox.api.webhook_errors == []
        receivers = Counter(sandbox.api.webhook_receivers)
        assert len(receivers) == 2
        assert set(receivers.values()) == {2}


async def test_a_setup_claim_left_by_a_dead_instance_delays_the_webhook_but_does_not_lose_it(
    sandbox: Sandbox,
) -> None:
    async def died_setting_the_webhook(storage: Storage) -> None:
        dead = Claims(storage, CLAIM_TIME, holder="dead")
        assert await dead.take(WEBHOOK_CLAIM, dt.timedelta(seconds=2))

    async with two_instances(sandbox, prepare=died_setting_the_webhook):
        # The first waited for the claim to lapse and set the webhook; the second found it.
        assert len(calls(sandbox, "setWebhook")) == 1
        user = sandbox.user(language_code="en")
        await user.send("/start")
        assert "Hello! I am Vyraj" in user.last_text


async def test_both_sweeping_close_a_due_poll_once_with_one_results_post(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    async with two_instances(sandbox) as instances:
        admin = sandbox.user("Admin", language_code="en")
        group = await sandbox.group("Belarusians in Kraków", added_by=admin)
        in_group = admin.in_chat(group)
        await in_group.send("/poll census Lunch? | Yes | No | close: in 1 hour")
        await in_group.send("/poll census Dinner? | Yes | No | close: in 2 hours")
        clock.advance(dt.timedelta(hours=1, minutes=1))
        # An instance that died while closing the second poll still holds it, for a while.
        dead = Claims(instances[0].storage, CLAIM_TIME, holder="dead")
        assert await dead.take(poll_close_claim(2), dt.timedelta(minutes=5))
        clock.advance(dt.timedelta(hours=1))
        closed = await asyncio.gather(*(vyraj.poll_actions.close_due() for vyraj in instances))
        assert sorted(closed) == [0, 1]  # the first poll, by one of them; the second waits
        await asyncio.gather(*(vyraj.poll_actions.results_settled() for vyraj in instances))
        assert len(results_posted(sandbox, group)) == 1
        assert len(calls(sandbox, "editMessageText")) == 1  # the census message, closed once
        # Once the dead instance's claim has lapsed, the next sweep closes it, once.
        async with instances[0].storage.transaction() as tx:
            await tx.claims.release("poll-close:2", "dead")  # as if lapsed
        closed = await asyncio.gather(*(vyraj.poll_actions.close_due() for vyraj in instances))
        assert sorted(closed) == [0, 1]
        await asyncio.gather(*(vyraj.poll_actions.results_settled() for vyraj in instances))
        assert len(results_posted(sandbox, group)) == 2
        assert len(calls(sandbox, "editMessageText")) == 2


async def test_every_subscriber_is_told_once_within_the_send_limit(sandbox: Sandbox) -> None:
    admin = sandbox.user("Admin", language_code="en")
    async with two_instances(sandbox, admin_ids=str(admin.user.id)) as instances:
        first = instances[0]
        people = [sandbox.user(f"S{i}", language_code="en").user.id for i in range(40)]
        for user_id in people:
            await subscribe(first.storage, first.keyring, user_id, "en")
        await admin.send("/wave open winter")
        # Both pick the broadcast up (the other one as its sweep would): they take turns.
        await asyncio.gather(*(vyraj.broadcaster.resume() for vyraj in instances))
        sent = await asyncio.gather(*(vyraj.broadcaster.wait() for vyraj in instances))
        assert sum(sent) == len(people)
        assert delivered(sandbox) == Counter(people)
        assert most_in_one_second([call.at for call in notices(sandbox)]) <= 25


async def test_a_broadcast_a_dead_instance_held_is_taken_over_once_its_claim_lapses(
    sandbox: Sandbox,
) -> None:
    admin = sandbox.user("Admin", language_code="en")
    async with two_instances(sandbox, admin_ids=str(admin.user.id)) as instances:
        first = instances[0]
        people = [sandbox.user(f"S{i}", language_code="en").user.id for i in range(10)]
        for user_id in people:
            await subscribe(first.storage, first.keyring, user_id, "en")
        # An instance that was sending died: its claim on the wave holds for a moment more.
        dead = Claims(first.storage, CLAIM_TIME, holder="dead")
        assert await dead.take(wave_broadcast_claim(1), dt.timedelta(seconds=1))
        await admin.send("/wave open winter")
        await asyncio.gather(*(vyraj.broadcaster.resume() for vyraj in instances))
        sent = await asyncio.gather(*(vyraj.broadcaster.wait() for vyraj in instances))
        assert sum(sent) == len(people)
        assert delivered(sandbox) == Counter(people)


async def test_both_running_the_digest_post_it_once(sandbox: Sandbox) -> None:
    owner = sandbox.user("Owner", language_code="en")
    channel = await sandbox.channel("Vyraj digest", owner=owner)
    settings = {
        "digest_chat_id": str(channel.id),
        "digest_schedule": YEARLY,
        "digest_locale": "en",
        "timezone": "Europe/Warsaw",
    }
    async with two_instances(sandbox, **settings) as instances:
        due = NEW_YEAR + dt.timedelta(minutes=3)
        posted = await asyncio.gather(*(vyraj.digest_service.run_due(due) for vyraj in instances))
        assert sorted(posted) == [False, True]
        assert channel_posts(sandbox, channel)
        assert recorded(sandbox) == [("2027-01-01T10:00:00+01:00", "scheduled", "posted")]
