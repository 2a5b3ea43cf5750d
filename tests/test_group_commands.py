"""Commands in the wrong place and for the right people: /forget, /notify and /survey in a
group link to the private dialogue; /help's admin sections; a changed 👍/👎; poll times in
TIMEZONE with the zone named."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.sandbox.runtime import Sandbox
from services.clock import ManualClock
from services.timefmt import local_time

WARSAW = ZoneInfo("Europe/Warsaw")  # TIMEZONE
POLLS_SECTION = "For administrators of groups and channels"
BOT_ADMIN_SECTION = "For the bot's admins"


@pytest.mark.parametrize(
    ("command", "opened"),
    [
        ("forget", "Delete?"),
        ("notify", "You do not get messages about new survey waves."),
        ("survey", "No survey wave is open right now."),
    ],
)
async def test_a_private_command_in_a_group_links_to_its_private_dialogue(
    sandbox: Sandbox, command: str, opened: str
) -> None:
    await sandbox.start_bot()
    member = sandbox.user("Member", language_code="en")
    group = await sandbox.group("Belarusians in Vilnius", added_by=member)
    in_group = member.in_chat(group)
    await in_group.send(f"/{command}@vyraj_bot")
    reply = in_group.last_message
    assert reply is not None
    assert "I don't know this command" not in in_group.last_text
    assert "private chat" in in_group.last_text
    [[button]] = reply["reply_markup"]["inline_keyboard"]
    assert button["url"] == f"https://t.me/vyraj_bot?start={command}"
    # The button opens the same dialogue in the private chat.
    await member.send(f"/start {command}")
    assert opened in member.last_text


async def test_a_bare_start_still_opens_the_menu(sandbox: Sandbox) -> None:
    await sandbox.start_bot()
    member = sandbox.user("Member", language_code="en")
    await member.send("/start")
    assert "📋 Survey" in member.last_buttons


async def test_help_shows_admin_sections_only_to_admins(sandbox: Sandbox) -> None:
    bot_admin = sandbox.user("Admin", language_code="en")
    await sandbox.start_bot(admin_ids=str(bot_admin.user.id))
    member = sandbox.user("Member", language_code="en")
    group_owner = sandbox.user("Owner", language_code="en")
    group = await sandbox.group("Belarusians in Kraków", added_by=group_owner)

    await member.send("/help")
    assert "/survey" in member.last_text
    assert POLLS_SECTION not in member.last_text
    assert BOT_ADMIN_SECTION not in member.last_text

    await bot_admin.send("/help")
    assert POLLS_SECTION in bot_admin.last_text
    assert BOT_ADMIN_SECTION in bot_admin.last_text
    assert "/wave open" in bot_admin.last_text

    # In a group: its administrators see the polls section there, its members do not.
    await group_owner.in_chat(group).send("/help@vyraj_bot")
    assert POLLS_SECTION in group_owner.in_chat(group).last_text
    assert BOT_ADMIN_SECTION not in group_owner.in_chat(group).last_text
    await member.in_chat(group).send("/help@vyraj_bot")
    assert POLLS_SECTION not in member.in_chat(group).last_text
    # ...and the group's owner in a private chat is a member like any other.
    await group_owner.send("/help")
    assert POLLS_SECTION not in group_owner.last_text


async def test_a_changed_article_vote_says_it_was_changed(sandbox: Sandbox) -> None:
    await sandbox.start_bot()
    reader = sandbox.user("Reader", language_code="en")
    await reader.send("karta pobytu MOS portal online")
    answer = reader.last_message
    assert answer is not None
    await reader.click("👍", answer)
    assert reader.last_answer is not None
    assert "Thank you" in reader.last_answer
    await reader.click("👎", answer)
    assert reader.last_answer is not None
    assert "changed" in reader.last_answer
    await reader.click("👎", answer)
    assert reader.last_answer is not None
    assert "already voted so" in reader.last_answer


def test_times_are_shown_in_the_zone_and_name_it() -> None:
    moment = dt.datetime(2026, 11, 18, 17, 0, tzinfo=dt.UTC)
    assert local_time(moment, WARSAW) == "2026-11-18 18:00 (Europe/Warsaw)"
    # As stored (UTC, naive): the same instant.
    assert local_time(moment.replace(tzinfo=None), WARSAW) == "2026-11-18 18:00 (Europe/Warsaw)"
    summer = dt.datetime(2026, 7, 1, 16, 0, tzinfo=WARSAW)
    assert local_time(summer, ZoneInfo("Europe/Minsk")) == "2026-07-01 17:00 (Europe/Minsk)"


async def test_polls_and_the_wizard_preview_give_the_close_time_in_timezone(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    await sandbox.start_bot(min_cell_size=5)
    admin = sandbox.user("Admin", language_code="en")
    group = await sandbox.group("Belarusians in Kraków", added_by=admin)
    in_group = admin.in_chat(group)
    await in_group.send("/poll Lunch? | Yes | No | close: in 2 hours")
    closes = clock.now() + dt.timedelta(hours=2)
    expected = local_time(closes, WARSAW)
    assert expected.endswith("(Europe/Warsaw)")
    await in_group.send("/polls")
    assert f"open, closes {expected}" in in_group.last_text
    assert "UTC" not in in_group.last_text

    me = admin.in_chat(sandbox.api.private_chat(admin.user))
    await me.send("/newpoll")
    await me.click("Belarusians in Kraków")
    await me.click("Census")
    await me.click(1)  # a template question
    await me.click("In 1 day")
    assert "Preview" in me.last_text
    assert f"Closes {local_time(clock.now() + dt.timedelta(days=1), WARSAW)}" in me.last_text
