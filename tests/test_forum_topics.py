"""Forum supergroups: polls, census messages, results, /polls, /closepoll, the /newpoll
wizard and the digest all follow the topic they belong to; General stays General."""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

import pytest

from bot.sandbox.driver import TelegramUser
from bot.sandbox.runtime import Sandbox
from bot.sandbox.server import FakeChat
from services.polls.parsing import parse_topic

K = 5


async def forum_with_admin(sandbox: Sandbox, **settings: Any) -> tuple[TelegramUser, FakeChat]:
    await sandbox.start_bot(min_cell_size=K, census_refresh_seconds=0.05, **settings)
    admin = sandbox.user("Admin", language_code="en")
    forum = await sandbox.group("Belarusians in Warsaw", added_by=admin, forum=True)
    return admin.in_chat(forum), forum


def bot_messages(sandbox: Sandbox, chat: FakeChat) -> list[dict[str, Any]]:
    return [
        m
        for (c, _), m in sorted(sandbox.api.messages.items())
        if c == chat.id and m.get("from", {}).get("id") == sandbox.api.bot.id
    ]


def db_rows(sandbox: Sandbox, sql: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(sandbox.database_path)) as db:
        return db.execute(sql).fetchall()


async def test_a_poll_and_its_results_stay_in_the_topic_where_it_was_started(
    sandbox: Sandbox,
) -> None:
    admin, forum = await forum_with_admin(sandbox)
    housing = sandbox.api.create_topic(forum, "Housing")
    in_housing = admin.in_topic(housing)
    await in_housing.send("/poll Rent or buy? | Rent | Buy")
    (poll_message,) = [m for m in bot_messages(sandbox, forum) if "poll" in m]
    assert poll_message["message_thread_id"] == housing
    assert poll_message["is_topic_message"] is True
    for option in [0] * 6 + [1] * 5:
        await sandbox.api.wait_processed(
            await sandbox.api.vote_in_poll(poll_message["poll"]["id"], [option])
        )
    await in_housing.send("/closepoll", reply_to=poll_message)
    results = admin.last_message
    assert results is not None
    assert "Results: Rent or buy?" in results["text"]
    assert results["message_thread_id"] == housing
    assert db_rows(sandbox, "SELECT thread_id FROM polls") == [(housing,)]


async def test_census_messages_and_results_go_to_the_topic(sandbox: Sandbox) -> None:
    admin, forum = await forum_with_admin(sandbox)
    jobs = sandbox.api.create_topic(forum, "Jobs")
    await admin.in_topic(jobs).send("/poll census Hiring? | Yes | No")
    census = admin.last_message
    assert census is not None
    assert census["message_thread_id"] == jobs
    for index in range(5):
        await sandbox.user(f"V{index}", language_code="en").in_chat(forum).click("Yes", census)
    await admin.in_topic(jobs).send("/closepoll", reply_to=census)
    results = admin.last_message
    assert results is not None
    assert "• Yes: 5" in results["text"]
    assert results["message_thread_id"] == jobs


async def test_general_gets_no_thread_id(sandbox: Sandbox) -> None:
    admin, forum = await forum_with_admin(sandbox)
    await admin.send("/poll Coffee or tea? | Coffee | Tea")
    (poll_message,) = [m for m in bot_messages(sandbox, forum) if "poll" in m]
    assert "message_thread_id" not in poll_message
    assert db_rows(sandbox, "SELECT thread_id FROM polls") == [(None,)]


async def test_polls_and_closepoll_in_a_topic_see_that_topic_only(sandbox: Sandbox) -> None:
    admin, forum = await forum_with_admin(sandbox)
    housing = sandbox.api.create_topic(forum, "Housing")
    jobs = sandbox.api.create_topic(forum, "Jobs")
    await admin.in_topic(housing).send("/poll Rent or buy? | Rent | Buy")
    await admin.in_topic(jobs).send("/poll Remote or office? | Remote | Office")
    await admin.in_topic(jobs).send("/polls")
    listing = admin.last_message
    assert listing is not None
    assert listing["message_thread_id"] == jobs  # the reply stays in the topic
    assert "Remote or office?" in listing["text"]
    assert "Rent or buy?" not in listing["text"]
    await admin.in_topic(jobs).send("/closepoll")
    assert admin.last_buttons == ["#2 Remote or office?"]
    await admin.send("/polls")  # General: the whole chat
    assert "Rent or buy?" in admin.last_text
    assert "Remote or office?" in admin.last_text


async def test_the_wizard_posts_into_a_topic_given_by_link_or_button(sandbox: Sandbox) -> None:
    admin, forum = await forum_with_admin(sandbox)
    housing = sandbox.api.create_topic(forum, "Housing")
    assert db_rows(sandbox, "SELECT forum FROM chats") == [(1,)]
    me = admin.in_chat(sandbox.api.private_chat(admin.user))
    await me.send("/newpoll")
    await me.click("Belarusians in Warsaw")
    assert "Which topic" in me.last_text
    assert me.last_buttons == ["General", "✖️ Cancel"]  # no earlier polls: no known topics
    await me.send("a topic I made up")
    assert "did not understand the topic" in me.last_text
    await me.send(f"https://t.me/c/{str(forum.id)[4:]}/{housing}/77")
    await me.click("Telegram poll (anonymous)")
    await me.click("No, the first is final")
    await me.click("Your status?")
    await me.click("Not automatically")
    assert f"Topic #{housing}" in me.last_text
    await me.click("Post it")
    (poll_message,) = [m for m in bot_messages(sandbox, forum) if "poll" in m]
    assert poll_message["message_thread_id"] == housing
    # Next time the topic of that poll is a button.
    await me.send("/newpoll")
    await me.click("Belarusians in Warsaw")
    assert me.last_buttons == ["General", f"Topic #{housing}", "✖️ Cancel"]
    await me.click("General")
    await me.click("Census: buttons, one vote each")
    await me.click("Where do you live now?")
    await me.click("Not automatically")
    await me.click("Post it")
    census = admin.last_message
    assert census is not None
    assert "message_thread_id" not in census


async def test_a_topic_that_does_not_exist_is_refused_and_nothing_is_recorded(
    sandbox: Sandbox,
) -> None:
    admin, _forum = await forum_with_admin(sandbox)
    me = admin.in_chat(sandbox.api.private_chat(admin.user))
    await me.send("/newpoll")
    await me.click("Belarusians in Warsaw")
    await me.send("4242")
    await me.click("Census: buttons, one vote each")
    await me.click("Your status?")
    await me.click("Not automatically")
    await me.click("Post it")
    assert "message thread not found" in me.last_text
    assert db_rows(sandbox, "SELECT count(*) FROM polls") == [(0,)]


async def test_the_digest_goes_to_its_topic(sandbox: Sandbox) -> None:
    owner = sandbox.user("Owner", language_code="en")
    await sandbox.start_bot(min_cell_size=K)
    forum = await sandbox.group("Diaspora news", added_by=owner, forum=True)
    digest_topic = sandbox.api.create_topic(forum, "Digest")
    await sandbox.stop_bot()
    await sandbox.start_bot(
        min_cell_size=K,
        digest_chat_id=str(forum.id),
        digest_thread_id=digest_topic,
        digest_locale="en",
        digest_schedule="0 10 1 1 *",
    )
    assert sandbox.bot is not None
    assert await sandbox.bot.vyraj.digest_service.post_now()
    posts = bot_messages(sandbox, forum)
    assert posts
    assert {post.get("message_thread_id") for post in posts} == {digest_topic}


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("https://t.me/c/1234567890/45/678", 45),
        ("t.me/c/1234567890/45", 45),
        ("https://t.me/belarus_in_warsaw/12/300", 12),
        (" 17 ", 17),
        ("0", None),
        ("https://example.com/c/1/2", None),
        ("topic", None),
        ("", None),
    ],
)
def test_topic_links_and_numbers(text: str, topic: int | None) -> None:
    assert parse_topic(text) == topic
