"""Several instances sharing one real redis-server: dialogue state under pseudonyms and
sealed, one handling per update, guide reloads reaching every instance, one census refresh
per window, one send limit in total, and no id anywhere in Redis."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from redis.asyncio import Redis

from bot import poll_actions
from bot.app import Vyraj, create_vyraj
from bot.broadcast import SendWindow
from bot.fsm_storage import records_kept_for_update
from bot.runners import serve_polling
from bot.sandbox.driver import TelegramUser
from bot.sandbox.runtime import Sandbox
from bot.settings import SettingsError, load_settings
from bot.shared.redis_fsm import PseudonymousKeyBuilder, SealedRedisStorage
from bot.shared.redis_guide_reloads import RedisGuideReloads
from bot.shared.redis_refresh_claims import RedisRefreshClaims
from bot.shared.redis_send_window import RedisSendWindow
from bot.shared.send_limit import SendLimit
from bot.startup import reach_redis
from bot.telegram_retry import StartupError
from services.knowledge.library import KnowledgeLibrary
from services.polls.voting import recount_census
from services.privacy import Keyring
from tests.servers import redis as redis_fixture
from tests.servers.redis import RedisServer

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
NEW_ARTICLE = "pl-quokka"
_fed_update_ids = itertools.count(10**9)  # far from the local server's own update_ids


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url)
    try:
        yield client
    finally:
        await client.aclose(close_connection_pool=True)


def id_forms(number: int) -> list[bytes]:
    """How an id could be written into a key or a value."""
    forms = [str(number).encode(), str(abs(number)).encode(), f"{abs(number):x}".encode()]
    forms.append(f"{abs(number):X}".encode())
    forms += [number.to_bytes(8, order, signed=True) for order in ("big", "little")]
    return forms


async def everything_in(redis: Redis) -> list[bytes]:
    """Every key in Redis and every value under it, whatever its type."""
    found: list[bytes] = []
    async for key in redis.scan_iter(count=1000):
        found.append(key)
        kind = (await redis.type(key)).decode()
        if kind == "string":
            found.append(await redis.get(key))
        elif kind == "hash":
            for field, value in (await redis.hgetall(key)).items():
                found += [field, value]
        elif kind == "zset":
            found += await redis.zrange(key, 0, -1)
        elif kind == "set":
            found += list(await redis.smembers(key))
        elif kind == "list":
            found += await redis.lrange(key, 0, -1)
        else:
            raise AssertionError(f"a {kind} in Redis that the scan cannot read")
    return found


async def assert_no_ids(redis: Redis, ids: list[int]) -> None:
    blobs = await everything_in(redis)
    assert blobs  # the flows did leave something to scan
    for number in ids:
        for form in id_forms(number):
            leaks = [blob for blob in blobs if form in blob]
            assert not leaks, f"{number} appears in Redis as {form!r}"


def fsm_rows(sandbox: Sandbox) -> int:
    with contextlib.closing(sqlite3.connect(sandbox.database_path)) as db:
        return int(db.execute("SELECT count(*) FROM fsm_states").fetchone()[0])


async def second_instance(
    sandbox: Sandbox, library: KnowledgeLibrary | None = None, **overrides: object
) -> Vyraj:
    """Another Vyraj on the same database and Redis, not serving: updates are fed to it."""
    settings = sandbox.settings(**overrides)
    return await create_vyraj(
        settings, sandbox.secret_key.encode(), sandbox.clock, library=library
    )


async def feed(vyraj: Vyraj, body: dict[str, Any], update_id: int | None = None) -> int:
    """Hand an update to `vyraj` as its webhook would; returns its update_id."""
    update_id = next(_fed_update_ids) if update_id is None else update_id
    await vyraj.dispatcher.feed_raw_update(vyraj.bot, {"update_id": update_id, **body})
    return update_id


async def click_on(vyraj: Vyraj, sandbox: Sandbox, user: TelegramUser, button: str) -> None:
    message = user.last_message_with_buttons
    assert message is not None
    data = user.find_button(message, button).callback_data
    assert data is not None
    _, body = sandbox.api.callback_update(user.user, message, data)
    await feed(vyraj, body)


# ---- dialogue state -----------------------------------------------------------------------


async def test_keys_are_pseudonyms_and_values_are_sealed(redis: Redis) -> None:
    keyring = Keyring(b"k" * 32)
    storage = SealedRedisStorage(redis, keyring)
    user_id, chat_id = 2**33 + 1001, 2**33 + 1001
    key = StorageKey(bot_id=123456, chat_id=chat_id, user_id=user_id)
    await storage.set_state(key, "Survey:country")
    await storage.set_data(key, {"country": "Poland", "wave": 3})

    pseudonym = keyring.fsm_pseudonym((123456, chat_id, user_id, None, None, "default"))
    assert PseudonymousKeyBuilder(keyring).build(key, "lock") == f"vyraj:fsm:{pseudonym}:lock"
    keys = sorted([key async for key in redis.scan_iter()])
    assert keys == [f"vyraj:fsm:{pseudonym}:{part}".encode() for part in ("data", "state")]
    for raw_key in keys:
        value = await redis.get(raw_key)
        assert b"Poland" not in value
        assert b"Survey" not in value
        assert await redis.ttl(raw_key) > 0  # an abandoned dialogue expires
    assert await storage.get_state(key) == "Survey:country"
    assert await storage.get_data(key) == {"country": "Poland", "wave": 3}
    # Another SECRET_KEY opens nothing, and says so as "no dialogue".
    stranger = SealedRedisStorage(redis, Keyring(b"s" * 32))
    stranger.key_builder = storage.key_builder
    assert await stranger.get_state(key) is None
    assert await stranger.get_data(key) == {}
    await storage.set_state(key, None)
    await storage.set_data(key, {})
    assert [key async for key in redis.scan_iter()] == []


async def test_a_dialogue_in_redis_is_read_once_per_update_and_writes_stay_current(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = SealedRedisStorage(redis, Keyring(b"k" * 32))
    alice = StorageKey(bot_id=1, chat_id=2**33 + 5, user_id=2**33 + 5)
    await storage.set_state(alice, "survey:answering")
    await storage.set_data(alice, {"wave": 1, "step": "status"})
    reads: list[str] = []
    for command in ("get", "mget"):
        original = getattr(redis, command)

        def counted(*args: Any, _command: str = command, _original: Any = original) -> Any:
            reads.append(_command)
            return _original(*args)

        monkeypatch.setattr(redis, command, counted)
    with records_kept_for_update():
        # A survey press: the middleware's state, the handler's state and data, its store.
        assert await storage.get_state(alice) == "survey:answering"
        assert await storage.get_state(alice) == "survey:answering"
        data = await storage.get_data(alice)
        data["step"] = "changed but not stored"
        assert (await storage.get_data(alice))["step"] == "status"
        await storage.set_data(alice, {**data, "step": "country"})
        assert await storage.get_data(alice) == {"wave": 1, "step": "country"}
        await storage.set_state(alice, None)
        assert await storage.get_state(alice) is None
    assert reads == ["mget"]
    # Outside an update every call reads Redis, which holds the writes; another instance's
    # write between two updates is seen by the next one.
    assert await storage.get_data(alice) == {"wave": 1, "step": "country"}
    assert await storage.get_state(alice) is None
    await SealedRedisStorage(redis, Keyring(b"k" * 32)).set_state(alice, "survey:done")
    with records_kept_for_update():
        assert await storage.get_state(alice) == "survey:done"
    assert reads == ["mget"] * 4


async def test_a_survey_started_on_one_instance_finishes_on_the_other(
    redis_server: RedisServer, redis: Redis, sandbox: Sandbox
) -> None:
    admin = sandbox.user("Admin", language_code="en")
    first = await sandbox.start_bot(
        admin_ids=str(admin.user.id), min_cell_size=5, redis_url=redis_server.url
    )
    await admin.send("/wave open 2026 Q4")
    assert "is open" in admin.last_text
    user = sandbox.user(language_code="en")
    await user.send("/survey")
    await user.click("I agree")
    await user.click("Left after 24 Feb 2022")
    assert "Which country do you live in now?" in user.last_text

    other = await second_instance(
        sandbox, admin_ids=str(admin.user.id), redis_url=redis_server.url
    )
    try:
        for button in ("Poland", "2022", "Developer", "Skip (prefer not to say)"):
            await click_on(other, sandbox, user, button)
        assert "How did the move happen?" in user.last_text
        await user.click("Company-sponsored visa (e.g. PBH)")  # back on the first instance
        for button in ("When it is safe", "Submit"):
            await click_on(other, sandbox, user, button)
        assert "Thank you" in user.last_text
    finally:
        await other.close()
    assert first.vyraj.shared.redis is not None
    assert fsm_rows(sandbox) == 0  # the dialogue lived in Redis, not in the database
    with contextlib.closing(sqlite3.connect(sandbox.database_path)) as db:
        assert db.execute("SELECT count(*) FROM survey_responses").fetchone()[0] == 1
    await assert_no_ids(redis, [user.user.id, admin.user.id, user.chat.id, admin.chat.id])


async def test_forget_clears_the_dialogue_in_redis(
    redis_server: RedisServer, redis: Redis, sandbox: Sandbox
) -> None:
    admin = sandbox.user("Admin", language_code="en")
    await sandbox.start_bot(
        admin_ids=str(admin.user.id), min_cell_size=5, redis_url=redis_server.url
    )
    await admin.send("/wave open 2026 Q4")
    user = sandbox.user(language_code="en")
    await user.send("/survey")
    await user.click("I agree")
    await user.click("Left after 24 Feb 2022")
    assert [key async for key in redis.scan_iter("vyraj:fsm:*")]
    # Mid-survey: the dialogue, its answers and the updates seen are all in Redis now.
    await assert_no_ids(redis, [user.user.id, admin.user.id, user.chat.id, admin.chat.id])
    await user.send("/forget")
    await user.click("🗑 Yes, delete everything")
    assert "Done" in user.last_text
    assert [key async for key in redis.scan_iter("vyraj:fsm:*")] == []


async def test_closing_the_wave_destroys_its_unfinished_surveys_in_redis(
    redis_server: RedisServer, redis: Redis, sandbox: Sandbox
) -> None:
    admin = sandbox.user("Admin", language_code="en")
    await sandbox.start_bot(
        admin_ids=str(admin.user.id), min_cell_size=5, redis_url=redis_server.url
    )
    await admin.send("/wave open 2026 Q4")
    user = sandbox.user(language_code="en")
    await user.send("/survey")
    await user.click("I agree")
    await user.click("Left after 24 Feb 2022")
    assert len([key async for key in redis.scan_iter("vyraj:fsm:*:data")]) == 1
    await admin.send("/wave close")
    assert "is closed" in admin.last_text
    assert [key async for key in redis.scan_iter("vyraj:fsm:*")] == []


# ---- one handling per update --------------------------------------------------------------


async def test_a_redelivered_update_is_handled_once_across_instances(
    redis_server: RedisServer, redis: Redis, sandbox: Sandbox
) -> None:
    first = await second_instance(sandbox, redis_url=redis_server.url)
    other = await second_instance(sandbox, redis_url=redis_server.url)
    user = sandbox.user(language_code="en")
    try:
        body = sandbox.api.message_update(user.user, user.chat, {"text": "/help"})
        update_id = await feed(first, body)
        assert len(user.bot_messages) == 1
        await feed(other, body, update_id)  # Telegram delivers it again, elsewhere
        await feed(first, body, update_id)  # and again
        assert len(user.bot_messages) == 1
        await feed(other, body)  # a new update is handled
        assert len(user.bot_messages) == 2
    finally:
        await first.close()
        await other.close()
    assert await redis.ttl(f"vyraj:update:{update_id}") > 0
    await assert_no_ids(redis, [user.user.id, user.chat.id])


async def test_two_instances_polling_together_answer_each_update_once(
    redis_server: RedisServer, sandbox: Sandbox
) -> None:
    """Both long-poll the same server, which hands each update to whoever asks until one
    confirms it: Telegram's redelivery, on every update."""
    await sandbox.start_bot(redis_url=redis_server.url)
    other = await second_instance(sandbox, redis_url=redis_server.url)
    # As `vyraj run` serves: each update in a task of its own, finished before it stops.
    polling = asyncio.create_task(serve_polling(other, handle_signals=False))
    users = [sandbox.user(language_code="en") for _ in range(3)]
    try:
        await other.serving.wait()
        for _ in range(4):
            for user in users:
                await sandbox.api.push_update(
                    sandbox.api.message_update(user.user, user.chat, {"text": "/help"})
                )
        await sandbox.api.wait_until(lambda: all(len(u.bot_messages) >= 4 for u in users))
    finally:
        await other.dispatcher.stop_polling()
        await polling  # its updates still under way are finished first
        await sandbox.stop_bot()
    assert [len(user.bot_messages) for user in users] == [4, 4, 4]
    pollers = [call for call in sandbox.api.calls if call.method == "getUpdates"]
    assert len(pollers) > 2  # both polled


# ---- guide reloads ------------------------------------------------------------------------


class WatchedLibrary(KnowledgeLibrary):
    """A library that says when a reload finished."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reloaded = asyncio.Event()

    async def reload(self) -> int:
        count = await super().reload()
        self.reloaded.set()
        return count


def add_article(content: Path) -> None:
    for source in (content / "pl").glob("pbh.*.md"):
        text = source.read_text("utf-8").replace("id: pl-pbh", f"id: {NEW_ARTICLE}")
        source.with_name(source.name.replace("pbh", "quokka")).write_text(text, "utf-8")


async def test_kbreload_on_one_instance_reloads_the_guide_on_the_other(
    redis_server: RedisServer, sandbox: Sandbox, tmp_path: Path
) -> None:
    content = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, content)
    admin = sandbox.user("Admin", language_code="en")
    overrides: dict[str, object] = {
        "admin_ids": str(admin.user.id),
        "knowledge_dir": str(content),
        "redis_url": redis_server.url,
    }
    other_library = WatchedLibrary(content)
    other = await second_instance(sandbox, other_library, **overrides)
    try:
        await other.shared.start()  # as its start-up does
        await sandbox.start_bot(**overrides)
        add_article(content)
        await admin.send("/kbreload")
        assert "The guide is reloaded" in admin.last_text
        await asyncio.wait_for(other_library.reloaded.wait(), 30)
        assert NEW_ARTICLE in other_library.base.ids
    finally:
        await other.close()
    assert other.shared.reload_listener is None  # unsubscribed and closed


async def test_an_instance_does_not_reload_on_its_own_announcement(
    redis: Redis, tmp_path: Path
) -> None:
    library = WatchedLibrary(KNOWLEDGE)
    own, elsewhere = RedisGuideReloads(redis, library), RedisGuideReloads(redis, library)
    await own.start()
    await elsewhere.start()
    try:
        await own.announce()  # heard by `elsewhere` only
        await asyncio.wait_for(library.reloaded.wait(), 30)
        library.reloaded.clear()
        assert await redis.pubsub_numsub("vyraj:guide-reloaded") == [(b"vyraj:guide-reloaded", 2)]
    finally:
        await own.close()
        await elsewhere.close()
    assert await redis.pubsub_numsub("vyraj:guide-reloaded") == [(b"vyraj:guide-reloaded", 0)]
    assert not library.reloaded.is_set()


async def test_an_instance_does_not_start_without_its_redis(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    settings = sandbox.settings(redis_url=f"unix://{tmp_path}/nobody.sock")
    with pytest.raises(StartupError, match="REDIS_URL: Redis does not answer"):
        await reach_redis(settings)


# ---- census refresh -----------------------------------------------------------------------


async def test_a_census_poll_is_redrawn_once_per_window_by_one_of_two_instances(
    redis_server: RedisServer, redis: Redis, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    recounts: list[int] = []

    async def counted_recount(*args: Any) -> Any:
        recounts.append(args[1])
        return await recount_census(*args)

    monkeypatch.setattr(poll_actions, "recount_census", counted_recount)
    overrides: dict[str, object] = {
        "min_cell_size": 5,
        "census_refresh_seconds": 1.0,
        "redis_url": redis_server.url,
    }
    first = (await sandbox.start_bot(**overrides)).vyraj
    admin = sandbox.user("Admin", language_code="en")
    group = await sandbox.group("Belarusians in Kraków", added_by=admin)
    admin = admin.in_chat(group)
    await admin.send("/poll census Has your company announced relocation? | Yes | No")
    census = admin.last_message
    assert census is not None
    other = await second_instance(sandbox, **overrides)
    try:
        voters = [sandbox.user(f"V{i}").in_chat(group) for i in range(5)]
        for voter in voters[:4]:
            await voter.click("Yes", census)  # the first instance takes the window
        _, body = sandbox.api.callback_update(voters[4].user, census, "pv:1:0")
        await feed(other, body)  # within it: the other instance leaves the redraw to it
        await first.poll_actions.census_settled()
        await other.poll_actions.census_settled()
    finally:
        await other.close()
    labels = [b["text"] for row in census["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["Yes · 5", "No · <5"]  # the other instance's vote is shown
    assert len(recounts) == 1  # by one instance, for both instances' votes
    edits = [call for call in sandbox.api.calls if call.method == "editMessageText"]
    assert len(edits) == 1
    await assert_no_ids(redis, [v.user.id for v in voters] + [admin.user.id, group.id])


async def test_one_instance_refreshes_a_census_poll_per_window(redis: Redis) -> None:
    first, other = RedisRefreshClaims(redis), RedisRefreshClaims(redis)
    assert await first.claim(7, 3.0)
    assert not await other.claim(7, 3.0)
    assert not await first.claim(7, 3.0)
    assert await other.claim(8, 3.0)  # another poll has its own window
    assert 0 < await redis.pttl("vyraj:census-refresh:7") <= 3000
    await redis.delete("vyraj:census-refresh:7")  # the window is over
    assert await other.claim(7, 3.0)


# ---- one send limit -----------------------------------------------------------------------


async def send_times(window: SendLimit, count: int) -> list[float]:
    """Each send's time, taken between its acquire and its release (while it holds a place)."""
    times = []
    for _ in range(count):
        await window.acquire()
        try:
            times.append(time.time())  # the wall clock, which Redis's TIME also reads
        finally:
            await window.release()
    return times


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    return max(
        sum(1 for later in times[index:] if later - start < 1.0)
        for index, start in enumerate(times)
    )


async def test_two_senders_together_stay_within_25_per_second(
    redis_server: RedisServer,
) -> None:
    clients = [Redis.from_url(redis_server.url) for _ in range(2)]
    try:
        windows = [RedisSendWindow(client, 25) for client in clients]
        runs = await asyncio.gather(*(send_times(window, 40) for window in windows))
    finally:
        for client in clients:
            await client.aclose(close_connection_pool=True)
    times = runs[0] + runs[1]
    assert len(times) == 80
    assert most_in_one_second(times) <= 25
    assert min(len(run) for run in runs) == 40  # neither sender was starved


async def test_separate_windows_would_send_twice_as_fast() -> None:
    """The check above can fail: two in-process windows do not know of each other."""
    runs = await asyncio.gather(*(send_times(SendWindow(25), 30) for _ in range(2)))
    assert most_in_one_second(runs[0] + runs[1]) > 25


def test_a_single_instance_does_not_import_the_redis_client() -> None:
    probe = "import sys, bot.app, bot.startup; print('redis' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize(
    "url", ["redis://localhost:6379/0", "rediss://:pw@host:6380/1", "unix:///run/redis.sock"]
)
def test_redis_url_accepts_redis_and_unix_urls(url: str) -> None:
    settings = load_settings(redis_url=url, _env_file=None)
    assert settings.redis_url is not None
    assert settings.redis_url.get_secret_value() == url
    assert url not in repr(settings)  # a password in it stays out of logs


def test_redis_url_unset_empty_or_wrong() -> None:
    assert load_settings(_env_file=None).redis_url is None
    assert load_settings(redis_url=" ", _env_file=None).redis_url is None
    with pytest.raises(SettingsError, match="REDIS_URL: must be a URL"):
        load_settings(redis_url="localhost:6379", _env_file=None)


# ---- the fixture ---------------------------------------------------------------------------


def test_a_missing_redis_server_skips_locally_and_fails_on_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(redis_fixture.shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        redis_fixture.redis_server_binary()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        redis_fixture.redis_server_binary()


def test_the_server_runs_without_persistence_and_stops_also_on_failure() -> None:
    import redis as sync_redis

    class Boom(Exception):
        pass

    pids: list[int] = []

    def fail_inside(folder: Path) -> None:
        with redis_fixture.running_redis(folder) as server:
            with sync_redis.Redis(unix_socket_path=str(server.socket)) as client:
                assert client.config_get("save") == {"save": ""}
                assert client.config_get("appendonly") == {"appendonly": "no"}
                pids.append(int(client.info("server")["process_id"]))
            assert Path(f"/proc/{pids[0]}").exists()
            raise Boom  # a test failing inside

    with tempfile.TemporaryDirectory(prefix="redis-") as folder:
        with pytest.raises(Boom):
            fail_inside(Path(folder))
        assert not Path(f"/proc/{pids[0]}").exists()  # stopped and reaped by its own pid
