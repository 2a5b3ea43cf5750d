"""Two real `vyraj run` processes sharing PostgreSQL and Redis, behind one webhook URL: the local
Bot API server delivers updates round-robin between them, as a load balancer would. Every job's
effect happens once, and the send limit holds for both together."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from bot.sandbox.driver import TelegramUser, buttons_of
from bot.sandbox.runtime import Sandbox, open_sandbox
from tests.instances_harness import two_instances
from tests.servers.postgres import PostgresCluster
from tests.servers.redis import RedisServer
from tests.test_broadcast_window import delivered, most_in_one_second, notices
from tests.test_instances import results_posted

SUBSCRIBERS = 60
# The broadcast claim lapses after 30 s and the sweep runs every 30 s: at most about a minute.
TAKEOVER_TIMEOUT = 120.0
POLL_CLOSE_TIMEOUT = 150.0


@pytest.fixture
async def shared(
    postgres_cluster: PostgresCluster, redis_server: RedisServer, tmp_path: Path
) -> AsyncIterator[tuple[Sandbox, str, str]]:
    """The local server on the system's clock (the processes read it too), a fresh database
    and a Redis of the test's own."""
    url = await postgres_cluster.fresh_database()
    async with open_sandbox(tmp_path / "unused.sqlite3", database_url=url) as sandbox:
        yield sandbox, url, redis_server.url


def calls(sandbox: Sandbox, method: str) -> list[Any]:
    return [call for call in sandbox.api.calls if call.method == method]


def answered(sandbox: Sandbox) -> Counter[str]:
    """How many times each callback query was answered."""
    return Counter(c.params["callback_query_id"] for c in calls(sandbox, "answerCallbackQuery"))


async def fetch(url: str, query: str) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(row) for row in await conn.fetch(query)]
    finally:
        await conn.close()


def shows_button(user: TelegramUser, text: str) -> bool:
    message = user.last_message_with_buttons
    return message is not None and any(text in b.text for b in buttons_of(message))


# The instances answer webhooks at once and handle updates in the background: each step waits
# for the reply it needs.
async def say(user: TelegramUser, text: str, reply: str) -> None:
    await user.send(text)
    await user.api.wait_until(lambda: reply in user.last_text, timeout=30)


async def press(user: TelegramUser, button: str, *, then_button: str) -> None:
    before = user.last_text
    await user.click(button)
    try:
        await user.api.wait_until(
            lambda: user.last_text != before and shows_button(user, then_button), timeout=30
        )
    except TimeoutError:
        raise AssertionError(f"after {button!r}: {user.last_message}") from None


async def subscribe_all(people: list[TelegramUser]) -> None:
    """Each person subscribes as people do: /notify, then its button."""
    for person in people:
        await subscribe(person)


async def subscribe(person: TelegramUser) -> None:
    await person.send("/notify")
    await person.api.wait_until(lambda: shows_button(person, "Tell me when"), timeout=30)
    await person.click("🔔 Tell me when a new wave opens")
    await person.api.wait_until(lambda: "Done: I will" in person.last_text, timeout=30)


async def test_the_webhook_is_set_once_and_both_instances_answer(
    shared: tuple[Sandbox, str, str], tmp_path: Path
) -> None:
    sandbox, url, redis_url = shared
    async with two_instances(sandbox, url, redis_url, tmp_path) as deployment:
        assert len(calls(sandbox, "setWebhook")) == 1  # both started together
        assert sandbox.api.webhook_url == deployment.instances[0].url
        for _ in range(4):
            user = sandbox.user(language_code="en")
            await say(user, "/start", "Hello! I am Vyraj")
        assert sandbox.api.webhook_errors == []
        receivers = Counter(sandbox.api.webhook_receivers)
        assert set(receivers) == {instance.url for instance in deployment.instances}
    assert "Traceback" not in deployment.log()


async def test_a_survey_started_on_one_instance_finishes_on_the_other(
    shared: tuple[Sandbox, str, str], tmp_path: Path
) -> None:
    sandbox, url, redis_url = shared
    admin = sandbox.user("Admin", language_code="en")
    async with two_instances(
        sandbox, url, redis_url, tmp_path, admin_ids=str(admin.user.id)
    ) as deployment:
        await say(admin, "/wave open 2026 Q4", "Wave “2026 Q4” is open")
        user = sandbox.user(language_code="en")
        first = len(sandbox.api.webhook_receivers)
        await user.send("/survey")
        await user.api.wait_until(lambda: shows_button(user, "I agree"), timeout=30)
        steps = [
            "I agree",
            "Left after 24 Feb 2022",
            "Georgia",
            "2022",
            "Developer",
            "Skip (prefer not to say)",
            "Company-sponsored visa (e.g. PBH)",
            "When it is safe",
            "Submit",
        ]
        for button, following in itertools.pairwise(steps):
            await press(user, button, then_button=following)
        await user.click("Submit")
        await user.api.wait_until(lambda: "Thank you" in user.last_text, timeout=30)
        survey_receivers = sandbox.api.webhook_receivers[first:]
        started, finished = survey_receivers[0], survey_receivers[-1]
        assert started != finished
        assert {deployment.by_url(started).name, deployment.by_url(finished).name} == {"A", "B"}
        # Every press answered exactly once, by whichever instance received it.
        await sandbox.api.wait_until(lambda: len(answered(sandbox)) == len(steps), timeout=30)
        assert set(answered(sandbox).values()) == {1}
        assert [m["text"] for m in user.bot_messages].count(user.last_text) == 1
        (count,) = await fetch(url, "SELECT count(*) FROM survey_pending")
        assert count == (1,)
    assert sandbox.api.webhook_errors == []


async def test_one_digest_per_period_when_both_start_with_it_due(
    shared: tuple[Sandbox, str, str], tmp_path: Path
) -> None:
    sandbox, url, redis_url = shared
    owner = sandbox.user("Owner", language_code="en")
    channel = await sandbox.channel("Vyraj digest", owner=owner)
    zone = ZoneInfo("Europe/Warsaw")
    # Once a year, two minutes ago: that period is due at start, the next one is a year off.
    due = (dt.datetime.now(zone) - dt.timedelta(minutes=2)).replace(second=0, microsecond=0)
    settings = {
        "digest_chat_id": str(channel.id),
        "digest_schedule": f"{due.minute} {due.hour} {due.day} {due.month} *",
        "digest_grace": "1h",
        "digest_locale": "en",
        "timezone": "Europe/Warsaw",
    }
    async with two_instances(sandbox, url, redis_url, tmp_path, **settings) as deployment:
        # Each posts the due digest (or finds it claimed) before it says it is up.
        await asyncio.wait_for(asyncio.gather(*(i.up.wait() for i in deployment.instances)), 60)
        records = await fetch(url, "SELECT period_key, kind, status FROM digests")
        assert [(kind, status) for _, kind, status in records] == [("scheduled", "posted")]
        posts = [m for (c, _), m in sandbox.api.messages.items() if c == channel.id]
        headlines = [p for p in posts if "Vyraj digest, " in str(p.get("caption", p.get("text")))]
        assert len(headlines) == 1


async def test_every_subscriber_is_told_once_within_25_a_second_in_total(
    shared: tuple[Sandbox, str, str], tmp_path: Path
) -> None:
    sandbox, url, redis_url = shared
    admin = sandbox.user("Admin", language_code="en")
    async with two_instances(sandbox, url, redis_url, tmp_path, admin_ids=str(admin.user.id)):
        people = [sandbox.user(f"S{i}", language_code="en") for i in range(SUBSCRIBERS)]
        await subscribe_all(people)
        await say(admin, "/wave open winter", "is open")
        ids = Counter(person.user.id for person in people)
        await sandbox.api.wait_until(lambda: set(delivered(sandbox)) == set(ids), timeout=60)
        assert delivered(sandbox) == ids
        assert most_in_one_second([call.at for call in notices(sandbox)]) <= 25
        assert len(set(sandbox.api.webhook_receivers)) == 2  # both took subscriptions


async def test_killing_the_sender_mid_broadcast_loses_nobody(
    shared: tuple[Sandbox, str, str], tmp_path: Path
) -> None:
    sandbox, url, redis_url = shared
    admin = sandbox.user("Admin", language_code="en")
    async with two_instances(
        sandbox, url, redis_url, tmp_path, admin_ids=str(admin.user.id)
    ) as deployment:
        people = [sandbox.user(f"S{i}", language_code="en") for i in range(SUBSCRIBERS)]
        await subscribe_all(people)
        opened_at = len(sandbox.api.webhook_receivers)
        await admin.send("/wave open winter")
        sender = deployment.by_url(sandbox.api.webhook_receivers[opened_at])
        await sandbox.api.wait_until(lambda: len(notices(sandbox)) >= 10, timeout=60)
        sender.kill()  # its claim on the broadcast stays until it lapses
        await sender.process.wait()
        cut_at = len(notices(sandbox))
        assert cut_at < SUBSCRIBERS  # it died mid-broadcast
        ids = {person.user.id for person in people}
        await sandbox.api.wait_until(
            lambda: set(delivered(sandbox)) == ids, timeout=TAKEOVER_TIMEOUT
        )
        # The survivor finished what the dead one started: a part of the list, not all of it.
        (survivor,) = [i for i in deployment.instances if i is not sender]
        await survivor.wait_logged("New-wave broadcast finished")
        (finished,) = [line for line in survivor.log if "New-wave broadcast finished" in line]
        sent = re.search(r"finished: (\d+) messages", finished)
        assert sent is not None
        assert int(sent[1]) < SUBSCRIBERS
        told = delivered(sandbox)
        assert sum(told.values()) - len(ids) <= 1  # at most the one message in flight


async def test_one_results_post_per_closed_poll_with_both_sweeping(
    shared: tuple[Sandbox, str, str], tmp_path: Path
) -> None:
    sandbox, url, redis_url = shared
    admin = sandbox.user("Admin", language_code="en")
    async with two_instances(sandbox, url, redis_url, tmp_path) as deployment:
        group = await sandbox.group("Belarusians in Kraków", added_by=admin)
        in_group = admin.in_chat(group)
        # The shortest close time there is: a minute. One instance schedules the close, both
        # sweep for due polls every 30 s.
        await in_group.send("/poll census Lunch? | Yes | No | close: in 1 minute")
        await sandbox.api.wait_until(
            lambda: any("Lunch?" in str(m) for m in in_group.bot_messages), timeout=30
        )
        await sandbox.api.wait_until(
            lambda: bool(results_posted(sandbox, group)), timeout=POLL_CLOSE_TIMEOUT
        )
        instances = deployment.instances
    # Both stopped gracefully: whatever either was doing has finished.
    assert all(instance.process.returncode == 0 for instance in instances)
    assert len(results_posted(sandbox, group)) == 1
