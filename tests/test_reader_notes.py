"""Readers report an outdated or wrong article in one short note that nothing links to them;
admins read and clear the notes with /kbnotes and see what is past KB_STALE_DAYS on /kbreload."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import shutil
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sandbox.driver import TelegramUser
from bot.sandbox.runtime import Sandbox
from bot.sandbox.terminal import run_terminal
from handlers.guide.report import NOTE_WAIT
from services.clock import ManualClock
from services.knowledge import load_knowledge_base
from services.knowledge.question_terms import MASK, mask_identifying
from services.knowledge.reader_notes import NOTE_MAX, NoteQuota, note_to_keep, noted_in
from storage.migrations import available_migrations
from tests.test_privacy_scan import database_bytes, find_ids
from tests.test_reply_answering import STICKER

WARSAW = ZoneInfo("Europe/Warsaw")  # TIMEZONE
KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
KARTA = "pl-karta-pobytu"
KARTA_TITLE = "Temporary residence card in Poland (karta pobytu) and the MOS portal"
REPORT = "Report outdated or wrong"
PERSONAL = ("600 100 200", "ivan@mail.com", "MP1234567", "@ivan_k")


async def admin_and_reader(box: Sandbox, **settings: object) -> tuple[TelegramUser, TelegramUser]:
    admin = box.user("Admin", language_code="en")
    await box.start_bot(admin_ids=str(admin.user.id), **settings)
    return admin, box.user("Reader", language_code="en")


async def open_report(reader: TelegramUser) -> None:
    await reader.send("karta pobytu MOS portal online")
    assert f"✏️ {REPORT}" in reader.last_buttons
    await reader.click(REPORT)
    assert KARTA_TITLE in reader.last_text
    assert f"up to {NOTE_MAX} characters" in reader.last_text


async def test_a_note_is_kept_masked_and_unlinked_and_admins_read_and_clear_it(
    sandbox: Sandbox,
) -> None:
    admin, reader = await admin_and_reader(sandbox)
    await open_report(reader)
    note = (
        f"The fee changed in 2026. Call Ivan +48 600 100 200, ivan@mail.com or @ivan_k, "
        f"passport MP1234567, my id {reader.user.id}"
    )
    await reader.send(note)
    assert "Thank you" in reader.last_text
    # The dialogue is over: the next message is a question again.
    await reader.send("karta pobytu MOS portal online")
    assert "Sources:" in reader.last_text

    await admin.send("/kbnotes")
    overview = admin.last_text
    assert f"{KARTA_TITLE} ({KARTA}): 1" in overview
    assert "2026-11: The fee changed in 2026. Call Ivan" in overview
    for personal in (*PERSONAL, str(reader.user.id)):
        assert personal not in overview
    stored = database_bytes(sandbox.database_path)
    assert b"The fee changed in 2026" in stored
    for personal in PERSONAL:
        assert personal.encode() not in stored
    assert find_ids(stored, [reader.user.id]) == []

    await admin.send(f"/kbnotes {KARTA}")
    assert f"Notes on {KARTA_TITLE}" in admin.last_text
    assert "passport ***" in admin.last_text
    await admin.send(f"/kbnotes clear {KARTA}")
    assert f"Cleared 1 note of {KARTA_TITLE}." in admin.last_text
    await admin.send("/kbnotes")
    assert "No reader has reported anything" in admin.last_text
    await reader.send("/kbnotes")
    assert "only for the bot's admins" in reader.last_text


def test_a_note_row_holds_nothing_but_the_article_the_note_and_the_month(tmp_path: Path) -> None:
    path = tmp_path / "vyraj.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as db:
        for migration in available_migrations():
            db.executescript(migration.sql)
        columns = [str(info[1]) for info in db.execute("PRAGMA table_info(kb_notes)")]
    assert columns == ["article_id", "note", "noted_in"]


async def test_a_long_note_is_sent_back_and_the_dialogue_waits(sandbox: Sandbox) -> None:
    admin, reader = await admin_and_reader(sandbox)
    await open_report(reader)
    await reader.send("x" * (NOTE_MAX + 1))
    assert f"That is {NOTE_MAX + 1} characters; please shorten it to {NOTE_MAX}." in (
        reader.last_text
    )
    await reader.send_payload(STICKER)
    assert "write the note as text" in reader.last_text
    await reader.send("The MOS link moved.")
    assert "Thank you" in reader.last_text
    await admin.send(f"/kbnotes {KARTA}")
    assert "The MOS link moved." in admin.last_text


async def test_cancel_leaves_without_a_note(sandbox: Sandbox) -> None:
    admin, reader = await admin_and_reader(sandbox)
    await open_report(reader)
    await reader.send("/cancel")
    assert "Cancelled" in reader.last_text
    await reader.send("karta pobytu MOS portal online")
    assert "Sources:" in reader.last_text
    await admin.send("/kbnotes")
    assert "No reader has reported anything" in admin.last_text


async def test_a_report_left_open_is_closed_and_the_late_message_answered_as_a_question(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    admin, reader = await admin_and_reader(sandbox)
    await open_report(reader)
    clock.advance(NOTE_WAIT - dt.timedelta(minutes=1))
    await reader.send_payload(STICKER)
    assert "write the note as text" in reader.last_text  # still writing the note
    clock.advance(dt.timedelta(minutes=2))
    replies = await reader.send("karta pobytu MOS portal online")
    assert len(replies) == 2
    assert replies[0]["text"].startswith("The report you opened more than 30 minutes ago")
    assert "Sources:" in reader.last_text
    await admin.send("/kbnotes")
    assert "No reader has reported anything" in admin.last_text
    # A sticker that late is not the note either: the dialogue is closed without a word.
    await open_report(reader)
    clock.advance(NOTE_WAIT + dt.timedelta(minutes=1))
    assert await reader.send_payload(STICKER) == []
    await reader.send("The MOS link moved.")
    assert "Thank you" not in reader.last_text


async def test_three_notes_a_day_per_person(sandbox: Sandbox, clock: ManualClock) -> None:
    admin, reader = await admin_and_reader(sandbox)
    for number in range(3):
        await open_report(reader)
        await reader.send(f"note {number}")
        assert "Thank you" in reader.last_text
    await open_report(reader)
    await reader.send("note 3")
    assert "enough notes for today" in reader.last_text
    other = sandbox.user("Other", language_code="en")
    await open_report(other)
    await other.send("another reader's note")
    assert "Thank you" in other.last_text
    clock.advance(dt.timedelta(days=1))
    await open_report(reader)
    await reader.send("note 4, the next day")
    assert "Thank you" in reader.last_text
    await admin.send("/kbnotes")
    assert f"({KARTA}): 5" in admin.last_text


async def test_in_a_group_the_button_opens_a_private_chat(sandbox: Sandbox) -> None:
    admin, reader = await admin_and_reader(sandbox)
    group = await sandbox.group("Belarusians in Gdańsk", added_by=reader)
    in_group = reader.in_chat(group)
    await in_group.send("@vyraj_bot karta pobytu MOS portal online")
    answer = in_group.last_message
    assert answer is not None
    seq = sandbox.api.last_seq
    await in_group.click(REPORT, answer)
    assert sandbox.api.events_since(seq) == []  # nothing said in front of the group
    assert in_group.last_answer_url == f"https://t.me/vyraj_bot?start=report-{KARTA}"
    # The group's chatter is not taken for a note.
    assert await in_group.send("ok, will do") == []

    await reader.send(f"/start report-{KARTA}")
    assert KARTA_TITLE in reader.last_text
    await reader.send("Old fee.")
    assert "Thank you" in reader.last_text
    await admin.send("/kbnotes")
    assert f"({KARTA}): 1" in admin.last_text


async def test_forged_buttons_and_links_change_nothing(sandbox: Sandbox) -> None:
    admin, reader = await admin_and_reader(sandbox)
    await reader.send("karta pobytu MOS portal online")
    message = reader.last_message
    assert message is not None
    await reader.press(message, "rp:xx-nothing")
    assert reader.last_answer is not None
    assert "no longer valid" in reader.last_answer
    await reader.send("/start report-xx-nothing")
    assert "no longer valid" in reader.last_text
    await reader.send("a note for nothing")
    await admin.send("/kbnotes")
    assert "No reader has reported anything" in admin.last_text


async def test_kbreload_lists_the_articles_past_kb_stale_days(
    sandbox: Sandbox, clock: ManualClock, tmp_path: Path
) -> None:
    content = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, content)
    old = clock.today(WARSAW) - dt.timedelta(days=5000)
    admin, _ = await admin_and_reader(sandbox, knowledge_dir=str(content), kb_stale_days=4000)
    await admin.send("/kbreload")
    assert "No article is past KB_STALE_DAYS (4000 days)." in admin.last_text
    for path in (content / "pl").glob("pbh.*.md"):
        text = path.read_text("utf-8")
        path.write_text(re.sub(r"verified: \S+", f"verified: {old}", text), "utf-8")
    await admin.send("/kbreload")
    pbh = load_knowledge_base(content).get("pl-pbh", "en")
    assert pbh is not None
    assert "Past KB_STALE_DAYS (checked more than 4000 days ago):" in admin.last_text
    assert f"{pbh.title}: {old.isoformat()}" in admin.last_text
    assert "Open questions" in admin.last_text
    assert len(admin.last_text) < 4096


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Fee is 440 zł since 2025", "Fee is 440 zł since 2025"),
        ("call +48 600 100 200 now", f"call {MASK} now"),
        ("mail ivan@mail.com or @ivan_k", f"mail {MASK} or {MASK}"),
        ("passport MP1234567, id6100040001", f"passport {MASK} {MASK}"),
        ("B1 level, 4g, 2024", "B1 level, 4g, 2024"),
    ],
)
def test_numbers_and_contacts_are_masked_as_for_unanswered_questions(
    typed: str, kept: str
) -> None:
    assert mask_identifying(typed) == kept


def test_a_note_is_kept_on_one_line_with_its_month_only() -> None:
    assert note_to_keep("  two\n\nlines  ") == "two lines"
    assert noted_in(dt.date(2026, 11, 24)) == "2026-11"


def test_the_quota_counts_per_person_per_day() -> None:
    quota = NoteQuota(per_day=2)
    day = dt.date(2026, 11, 24)
    assert [quota.take("a", day) for _ in range(3)] == [True, True, False]
    assert quota.take("b", day)
    assert quota.take("a", day + dt.timedelta(days=1))


async def test_in_the_terminal_sandbox_the_group_button_leads_to_the_private_chat() -> None:
    out = io.StringIO()
    lines = ("!lang en", "!group", "@vyraj_bot karta pobytu MOS portal online", "3", "Old fee.")
    assert await run_terminal(lines, database=None, out=out, echo=True) == 0
    pressed = out.getvalue().split("> 3\n", 1)[1]
    assert f"(the bot opens https://t.me/vyraj_bot?start=report-{KARTA})" in pressed
    assert "(you are in your private chat with the bot)" in pressed
    assert "What is outdated or wrong" in pressed
    assert "Thank you! Your note is saved" in out.getvalue().split("> Old fee.\n", 1)[1]


@given(
    st.text(max_size=60),
    st.integers(min_value=10_000, max_value=10**15),
    st.sampled_from(["{}", "+{}", "id{}", "({})", "{},"]),
    st.text(max_size=60),
)
def test_no_long_number_survives_masking(
    before: str, number: int, written: str, after: str
) -> None:
    kept = mask_identifying(f"{before} {written.format(number)} {after}")
    assert str(number) not in kept
