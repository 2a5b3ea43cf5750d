"""Census live counts against an attacker who knows one vote: counts move only in steps of at
least MIN_CELL_SIZE voters (`stepped`), or show nothing until close (`hidden`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.app import Vyraj
from bot.sandbox.driver import TelegramUser
from bot.sandbox.runtime import Sandbox
from bot.sandbox.server import FakeChat
from services.polls.parsing import parse_poll_line

K = 5
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)


async def group_with_admin(sandbox: Sandbox) -> tuple[TelegramUser, FakeChat]:
    await sandbox.start_bot(min_cell_size=K, census_refresh_seconds=0.05)
    admin = sandbox.user("Admin", language_code="en")
    group = await sandbox.group("Belarusians in Kraków", added_by=admin)
    return admin.in_chat(group), group


def running(sandbox: Sandbox) -> Vyraj:
    assert sandbox.bot is not None
    return sandbox.bot.vyraj


def labels(markup: dict[str, Any] | None) -> list[str]:
    return [b["text"] for row in (markup or {}).get("inline_keyboard", []) for b in row]


def shown_history(sandbox: Sandbox, census: dict[str, Any]) -> list[list[str]]:
    """Every set of buttons the bot ever drew on the census message after posting it."""
    return [
        labels(call.params.get("reply_markup"))
        for call in sandbox.api.calls
        if call.method == "editMessageText"
        and call.status == 200
        and str(call.params.get("message_id")) == str(census["message_id"])  # form fields
    ]


def results_text(sandbox: Sandbox, group: FakeChat) -> str:
    texts = [
        str(m.get("text", m.get("caption", "")))
        for (chat_id, _id), m in sorted(sandbox.api.messages.items())
        if chat_id == group.id
    ]
    return next(text for text in reversed(texts) if "Results:" in text)


async def test_one_known_vote_or_change_moves_no_shown_count(sandbox: Sandbox) -> None:
    admin, group = await group_with_admin(sandbox)
    await admin.send("/poll census Moving soon? | Yes | No")
    census = admin.last_message
    assert census is not None
    assert f"Counts are updated only after {K} more people" in census["text"]
    assert labels(census["reply_markup"]) == [f"Yes · <{K}", f"No · <{K}"]
    voters = [sandbox.user(f"V{i}", language_code="en").in_chat(group) for i in range(14)]
    for voter in voters[:5]:
        await voter.click("Yes", census)
    await sandbox.api.wait_until(lambda: labels(census["reply_markup"]) == ["Yes · 5", "No · <5"])
    for voter in voters[5:10]:
        await voter.click("No", census)
    await sandbox.api.wait_until(lambda: labels(census["reply_markup"]) == ["Yes · 5", "No · 5"])

    # The attacker's known changes, one at a time: a new vote, then a voter switching sides.
    victim = sandbox.user("Victim", language_code="en").in_chat(group)
    await victim.click("Yes", census)
    await running(sandbox).poll_actions.census_settled()
    assert labels(census["reply_markup"]) == ["Yes · 5", "No · 5"]
    await voters[0].click("No", census)
    await running(sandbox).poll_actions.census_settled()
    assert labels(census["reply_markup"]) == ["Yes · 5", "No · 5"]
    for _ in range(5):  # tapping the same answer again changes nothing
        await victim.click("Yes", census)
    await running(sandbox).poll_actions.census_settled()
    assert labels(census["reply_markup"]) == ["Yes · 5", "No · 5"]
    # Three more people make five unshown voters: only now may the counts move.
    for voter in voters[10:13]:
        await voter.click("Yes", census)
    await sandbox.api.wait_until(lambda: labels(census["reply_markup"]) == ["Yes · 8", "No · 6"])
    steps = [["Yes · 5", "No · <5"], ["Yes · 5", "No · 5"], ["Yes · 8", "No · 6"]]
    assert shown_history(sandbox, census) == steps

    # The final results count every vote, including one cast after the last step.
    await voters[13].click("No", census)
    await admin.send("/closepoll", reply_to=census)
    assert "This poll is closed." in census["text"]
    results = results_text(sandbox, group)
    assert "• Yes: 8" in results
    assert "• No: 7" in results
    assert "Votes: 15" in results
    assert shown_history(sandbox, census) == [*steps, []]  # closed: no buttons left


async def test_hidden_counts_show_nothing_until_close(sandbox: Sandbox) -> None:
    admin, group = await group_with_admin(sandbox)
    await admin.send("/poll census hidden Moving soon? | Yes | No")
    census = admin.last_message
    assert census is not None
    assert "Counts are hidden until the poll closes" in census["text"]
    assert labels(census["reply_markup"]) == ["Yes", "No"]
    for index in range(7):
        voter = sandbox.user(f"V{index}", language_code="en").in_chat(group)
        await voter.click("Yes" if index < 6 else "No", census)
        assert voter.last_answer == ("Your vote: Yes" if index < 6 else "Your vote: No")
    await running(sandbox).poll_actions.census_settled()
    assert labels(census["reply_markup"]) == ["Yes", "No"]
    await admin.send("/closepoll", reply_to=census)
    assert "This poll is closed." in census["text"]
    assert shown_history(sandbox, census) == [[]]  # the one edit is the close
    assert "Votes: 7" in results_text(sandbox, group)


async def test_the_wizard_offers_hidden_counts(sandbox: Sandbox) -> None:
    admin, _group = await group_with_admin(sandbox)
    me = admin.in_chat(sandbox.api.private_chat(admin.user))
    await me.send("/newpoll")
    await me.click("Belarusians in Kraków")
    await me.click("Census, counts hidden until it closes")
    await me.click("Your status?")
    await me.click("Not automatically")
    assert "Counts hidden until it closes" in me.last_text
    await me.click("Post it")
    census = admin.last_message
    assert census is not None
    assert "Counts are hidden until the poll closes" in census["text"]
    assert "·" not in " ".join(labels(census["reply_markup"]))


def test_the_one_liner_takes_hidden_and_defaults_to_stepped() -> None:
    hidden = parse_poll_line("census hidden Moving? | Yes | No", NOW)
    assert (hidden.census, hidden.hidden_counts) == (True, True)
    stepped = parse_poll_line("census Moving? | Yes | No", NOW)
    assert (stepped.census, stepped.hidden_counts) == (True, False)
    native = parse_poll_line("hidden multi Moving? | Yes | No", NOW)  # Telegram's own, hidden
    assert (native.census, native.hidden_counts, native.multiple) == (False, True, True)
