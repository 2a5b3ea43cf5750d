"""Feedback, views, unanswered questions and the admin commands of the guide."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.sandbox.runtime import Sandbox
from handlers.guide.relocate import BrowseCallback
from services.clock import ManualClock
from services.knowledge import load_knowledge_base
from tests.test_privacy_scan import database_bytes

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
WARSAW = ZoneInfo("Europe/Warsaw")  # TIMEZONE


async def test_feedback_counts_one_vote_per_person_per_article(sandbox: Sandbox) -> None:
    admin = sandbox.user("Admin", language_code="en")
    await sandbox.start_bot(admin_ids=str(admin.user.id))
    reader = sandbox.user("Reader", language_code="en")
    await reader.send("karta pobytu MOS portal online")
    answer = reader.last_message
    assert answer is not None
    await reader.click("👍", answer)
    assert reader.last_answer is not None
    assert "Thank you" in reader.last_answer
    await reader.click("👍", answer)  # a double tap
    await reader.click("👎", answer)  # a change of mind replaces the vote
    other = sandbox.user("Other", language_code="ru")
    await other.send("карта побыту онлайн MOS")
    await other.click("👍")
    await admin.send("/kbstats")
    karta = load_knowledge_base(KNOWLEDGE).get("pl-karta-pobytu", "en")
    assert karta is not None
    assert f"{karta.title}: 👁 2 👍 1 👎 1" in admin.last_text  # titles, not ids
    assert "pl-karta-pobytu" not in admin.last_text
    unconfirmed = load_knowledge_base(KNOWLEDGE).with_open_questions("en")
    assert unconfirmed, "the guide has open questions, so /kbstats lists them"
    assert "Open questions" in admin.last_text
    for article in unconfirmed:
        assert f"{article.title}: ❓ {len(article.open_questions)}" in admin.last_text
    assert len(admin.last_text) < 4096


async def test_forged_feedback_is_refused(sandbox: Sandbox) -> None:
    await sandbox.start_bot()
    reader = sandbox.user(language_code="en")
    await reader.send("/start")
    message = reader.last_message
    assert message is not None
    for data in ("fb:xx-nothing:1", "fb:pl-pbh:maybe", "fb:"):
        await reader.press(message, data)
        assert reader.last_answer is not None
        assert "no longer valid" in reader.last_answer


async def test_unanswered_questions_are_grouped_for_admins_only(sandbox: Sandbox) -> None:
    admin = sandbox.user("Admin", language_code="en")
    await sandbox.start_bot(admin_ids=str(admin.user.id))
    asker = sandbox.user(language_code="en")
    await asker.send("How do I bake sourdough bread? Ivan Kowalski, +48 600 100 200")
    await asker.send("how do i bake sourdough bread (@ivan_k, ivan.k@mail.com)")
    await asker.send("best football club in Warsaw")
    await asker.send("/unanswered")
    assert "only for the bot's admins" in asker.last_text
    await admin.send("/unanswered")
    lines = admin.last_text.splitlines()
    assert "2 × bak sourd bread" in lines
    assert "1 × best footb club varsa" in lines  # a place the guide knows is kept
    stored = database_bytes(sandbox.database_path)
    # Needles long enough that random ciphertext in the file cannot hold them
    # by chance: "600" alone turns up in about one run in a hundred.
    for personal in ("Ivan", "ivan", "Kowalski", "600 100 200", "600100200", "mail.com"):
        assert personal not in admin.last_text
        assert personal.encode() not in stored


async def test_kbreload_serves_the_edited_article_and_its_new_title_on_buttons(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Articles are rendered once per edition: an edit shows only after /kbreload, and then
    at once, in the article and in the buttons of the articles that link to it."""
    content = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, content)
    admin = sandbox.user("Admin", language_code="en")
    await sandbox.start_bot(admin_ids=str(admin.user.id), knowledge_dir=str(content))
    reader = sandbox.user(language_code="en")
    linking = next(
        article
        for article in load_knowledge_base(KNOWLEDGE).articles.values()
        if article.language == "en" and "pl-pbh" in article.related
    )
    open_linking = BrowseCallback(view="article", key=linking.id).pack()
    await reader.send("PBH")
    before = reader.last_text
    assert before.startswith("Poland Business Harbour (PBH) visa")
    pbh = content / "pl" / "pbh.en.md"
    text = pbh.read_text("utf-8").replace("title: Poland Business", "title: Quokka Business")
    pbh.write_text(text + "\nA line added after the last check.\n", "utf-8")
    await reader.send("PBH")
    assert reader.last_text == before  # the edition in service until /kbreload
    await admin.send("/kbreload")
    assert "The guide is reloaded" in admin.last_text
    await reader.send("PBH")
    assert reader.last_text.startswith("Quokka Business Harbour (PBH) visa")
    assert "A line added after the last check." in reader.last_text
    answer = reader.last_message
    assert answer is not None
    await reader.press(answer, open_linking)
    assert reader.last_text.startswith(linking.title)
    assert "→ Quokka Business Harbour (PBH) visa" in " ".join(reader.last_buttons)


async def test_kbreload_reports_a_broken_article_and_keeps_serving(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    content = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, content)
    admin = sandbox.user("Admin", language_code="en")
    await sandbox.start_bot(admin_ids=str(admin.user.id), knowledge_dir=str(content))
    broken = content / "pl" / "pbh.ru.md"
    broken.write_text(re.sub(r"verified: [\d-]+", "verified: soon", broken.read_text("utf-8")))
    await admin.send("/kbreload")
    assert "previous version stays in service" in admin.last_text
    assert "pbh.ru.md" in admin.last_text
    assert "verified must be a date" in admin.last_text
    await admin.send("PBH")
    assert "Sources:" in admin.last_text
    (content / "pl" / "pbh.ru.md").unlink()
    (content / "pl" / "pbh.be.md").unlink()
    (content / "pl" / "pbh.en.md").unlink()
    for path in content.rglob("*.md"):
        path.write_text(
            path.read_text("utf-8")
            .replace("pl-pbh, ", "")
            .replace(", pl-pbh", "")
            .replace("[pl-pbh]", "[]")
        )
    await admin.send("/kbreload")
    remaining = len(load_knowledge_base(KNOWLEDGE).ids) - 1
    assert f"The guide is reloaded: {remaining} articles." in admin.last_text


@pytest.mark.pinned_instants
async def test_an_article_is_flagged_stale_from_the_day_after_its_limit(
    sandbox: Sandbox, clock: ManualClock, tmp_path: Path
) -> None:
    content = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, content)
    verified = clock.today(WARSAW) - dt.timedelta(days=30)
    for path in (content / "pl").glob("pbh.*.md"):
        text = path.read_text("utf-8")
        path.write_text(re.sub(r"verified: \S+", f"verified: {verified}", text), "utf-8")
    await sandbox.start_bot(knowledge_dir=str(content), kb_stale_days=30)
    reader = sandbox.user(language_code="en")
    outdated = "may be outdated"
    await reader.send("PBH")
    assert f"Checked on {verified}" in reader.last_text
    assert outdated not in reader.last_text
    (offered, *_) = await reader.inline("PBH")
    assert outdated not in offered["input_message_content"]["message_text"]
    clock.advance(dt.timedelta(days=1))
    await reader.send("PBH")
    assert outdated in reader.last_text
    (offered, *_) = await reader.inline("PBH")
    assert outdated in offered["input_message_content"]["message_text"]
