"""The survey end to end through the local Bot API server: consent, branching, skip and back,
one message edited in place, summary, change, submit, resume after a restart, /forget."""

from __future__ import annotations

import contextlib
import sqlite3
from zoneinfo import ZoneInfo

import pytest

from bot.sandbox.driver import TelegramUser
from bot.sandbox.runtime import Sandbox
from services.clock import ManualClock
from services.survey.waves import iso_week

WARSAW = ZoneInfo("Europe/Warsaw")  # TIMEZONE


async def open_wave(sandbox: Sandbox, label: str = "2026 Q4") -> TelegramUser:
    admin = sandbox.user("Admin", language_code="en")
    await sandbox.start_bot(admin_ids=str(admin.user.id), min_cell_size=5)
    await admin.send(f"/wave open {label}")
    assert f"Wave “{label}” is open" in admin.last_text
    return admin


def responses(sandbox: Sandbox) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(sandbox.database_path)) as db:
        return db.execute(
            "SELECT r.wave_id, r.week, s.answers FROM survey_responses r "
            "JOIN survey_answer_sets s ON s.wave_id = r.wave_id AND s.id = r.answer_set"
        ).fetchall()


async def test_consent_questions_in_one_message_summary_and_submit(sandbox: Sandbox) -> None:
    await open_wave(sandbox)
    user = sandbox.user(language_code="en")
    await user.send("/survey")
    assert "Nothing is stored until you press" in user.last_text
    consent = user.last_message
    assert consent is not None
    await user.click("I agree")
    # No total until the status is known: it depends on it, and a total never jumps.
    assert user.last_text.startswith("1. ")
    assert "Where are you now with relocation?" in user.last_text
    assert user.last_buttons[-1] == "Skip (prefer not to say)"  # no Back on the first question
    await user.click("Left after 24 Feb 2022")
    assert "2/7" in user.last_text
    assert "Which country do you live in now?" in user.last_text
    await user.click("More countries")
    assert "Next page ▶️" in user.last_buttons
    await user.click("Usual countries")
    await user.click("Poland")
    assert "3/7" in user.last_text
    await user.click("⬅️ Back")  # back to the country, which is remembered
    assert "Your answer: 🇵🇱 Poland" in user.last_text
    await user.click("Georgia")
    await user.click("2022")
    await user.click("Developer")
    await user.click("Skip (prefer not to say)")  # seniority
    await user.click("Company-sponsored visa (e.g. PBH)")
    await user.click("When it is safe")
    assert "Your answers" in user.last_text
    assert "Country now: 🇬🇪 Georgia" in user.last_text
    assert "Seniority: Prefer not to say" in user.last_text
    assert responses(sandbox) == []  # nothing stored before Submit
    await user.click("Change an answer")
    await user.click("Role")
    await user.click("QA")
    assert "Role: QA" in user.last_text  # straight back to the summary
    await user.click("Submit")
    assert "Thank you" in user.last_text
    assert "QA" not in user.last_text
    final = user.last_message
    assert final is not None
    assert final["message_id"] == consent["message_id"]  # it all happened in one message
    rows = responses(sandbox)
    assert len(rows) == 1
    assert '"country":"GE"' in str(rows[0][2])
    assert '"role":"qa"' in str(rows[0][2])
    assert str(rows[0][1]).count("-W") == 1  # only the week is kept


async def test_planning_branch_with_multiple_choice(sandbox: Sandbox) -> None:
    await open_wave(sandbox)
    user = sandbox.user(language_code="en")
    await user.send("/survey")
    await user.click("I agree")
    await user.click("Planning to leave")
    assert "2/6" in user.last_text
    assert "Where would you like to move?" in user.last_text
    await user.click("Done")  # nothing chosen yet
    assert user.last_answer is not None
    assert "at least one" in user.last_answer
    await user.click("Poland")
    await user.click("Lithuania")
    await user.click("✅ 🇵🇱 Poland")  # unselect
    assert "✅ 🇱🇹 Lithuania" in user.last_buttons
    await user.click("Done")
    assert "3/6" in user.last_text
    await user.click("Safety")
    await user.click("Done")
    await user.click("Skip (prefer not to say)")  # deterrents
    await user.click("Designer")
    await user.click("Senior")
    assert "Preferred destinations: 🇱🇹 Lithuania" in user.last_text
    # Changing the status drops the answers that no longer apply and asks the new ones.
    await user.click("Change an answer")
    await user.click("Status")
    await user.click("Staying in Belarus")
    assert "Your answers" in user.last_text
    assert "Preferred destinations" not in user.last_text
    await user.click("Submit")
    assert '"status":"staying"' in str(responses(sandbox)[0][2])
    assert "destinations" not in str(responses(sandbox)[0][2])


async def test_declining_stores_nothing_and_stale_buttons_do_nothing(sandbox: Sandbox) -> None:
    await open_wave(sandbox)
    user = sandbox.user(language_code="en")
    await user.send("/survey")
    await user.click("No, thanks")
    assert "Nothing was stored" in user.last_text
    with contextlib.closing(sqlite3.connect(sandbox.database_path)) as db:
        assert db.execute("SELECT count(*) FROM fsm_states").fetchone() == (0,)
    await user.send("/survey")
    await user.click("I agree")
    question = user.last_message
    assert question is not None
    await user.send("I live in Poland, by the way")  # free text while buttons are asked for
    assert "Please answer with the buttons above" in user.last_text
    await user.click("Staying in Belarus", question)
    # The same tap again (a double tap or a second device) is out of date and changes nothing.
    await user.press(question, "sv:pick:1:status:left_before")
    assert user.last_answer == "This button is no longer valid. Send /start for a fresh menu."
    for forged in (
        "sv:pick:1:role:astronaut",
        "sv:pick:1:status:staying",
        "sv:pick:99:role:qa",
        "sv:toggle:1:role:qa",
        "sv:edit:1:change:nothing",
        "sv:page:1:role:x",
        "sv:",
    ):
        await user.press(question, forged)
    assert "2/3" in user.last_text
    await user.click("QA")
    await user.click("Junior")
    await user.click("Submit")
    assert responses(sandbox)[0][2] == '{"role":"qa","seniority":"junior","status":"staying"}'


async def test_resume_after_restart_and_forget(sandbox: Sandbox) -> None:
    await open_wave(sandbox)
    user = sandbox.user(language_code="en")
    await user.send("/survey")
    await user.click("I agree")
    await user.click("Left before 24 Feb 2022")
    await user.click("Poland")
    await sandbox.stop_bot()
    await sandbox.start_bot(min_cell_size=5)
    await user.send("/survey")
    assert "3/7" in user.last_text  # where it stopped
    await user.click("2021")
    for answer in ("Developer", "Senior", "On my own", "No"):
        await user.click(answer)
    await user.click("Submit")
    assert len(responses(sandbox)) == 1
    await user.send("/survey")
    assert "answering again replaces it" in user.last_text
    await user.send("/forget")
    await user.click("Yes, delete everything")
    assert "Done" in user.last_text
    assert responses(sandbox) == []


async def test_in_a_group_survey_points_to_the_private_chat(sandbox: Sandbox) -> None:
    await open_wave(sandbox)
    member = sandbox.user(language_code="en")
    group = await sandbox.group("Belarusians in Gdańsk", added_by=member)
    await member.in_chat(group).send("/survey@vyraj_bot")
    message = member.in_chat(group).last_message
    assert message is not None
    button = message["reply_markup"]["inline_keyboard"][0][0]
    assert button["url"] == "https://t.me/vyraj_bot?start=survey"
    await member.send("/start survey")
    assert "Nothing is stored until you press" in member.last_text


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("be", ("Згаджаюся", "З’ехаў(-ла) пасля 24.02.2022", "Польшча", "Распрацоўшчык",
                "Прапусціць (не хачу адказваць)", "Самастойна", "Калі будзе бяспечна",
                "Адправіць", "Дзякуй")),
        ("ru", ("Соглашаюсь", "Уехал(-а) после 24.02.2022", "Польша", "Разработчик",
                "Пропустить (не хочу отвечать)", "Самостоятельно", "Когда будет безопасно",
                "Отправить", "Спасибо")),
        ("en", ("I agree", "Left after 24 Feb 2022", "Poland", "Developer",
                "Skip (prefer not to say)", "On my own", "When it is safe", "Submit",
                "Thank you")),
    ],
)  # fmt: skip
async def test_the_whole_survey_in_each_language(
    sandbox: Sandbox, language: str, words: tuple[str, ...]
) -> None:
    await open_wave(sandbox)
    user = sandbox.user(language_code=language)
    await user.send("/survey")
    agree, status, country, role, skip, how, back_home, submit, thanks = words
    await user.click(agree)
    await user.click(status)
    await user.click(country)
    await user.click("2023")
    await user.click(role)
    await user.click(skip)
    await user.click(how)
    await user.click(back_home)
    await user.click(submit)
    assert thanks in user.last_text
    assert '"move_how":"on_my_own"' in str(responses(sandbox)[0][2])


async def test_the_main_menu_leads_to_the_survey(sandbox: Sandbox) -> None:
    await open_wave(sandbox)
    user = sandbox.user(language_code="ru")
    await user.send("/start")
    await user.click("📋 Опрос")
    assert "Соглашаюсь" in " ".join(user.last_buttons)
    member = sandbox.user(language_code="en")
    group = await sandbox.group("Chat", added_by=member)
    in_group = member.in_chat(group)
    await in_group.send("/start@vyraj_bot")
    await in_group.click("📋 Survey")
    assert in_group.last_answer is not None
    assert "private chat" in in_group.last_answer


@pytest.mark.pinned_instants
async def test_the_year_question_and_the_stored_week_follow_the_clock(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    today = clock.today(WARSAW)
    await open_wave(sandbox)
    user = sandbox.user(language_code="en")
    await user.send("/survey")
    await user.click("I agree")
    await user.click("Left after 24 Feb 2022")
    await user.click("Poland")
    assert "When did you leave Belarus?" in user.last_text
    years = [label for label in user.last_buttons if label.isdigit()]
    # Left after 24 Feb 2022: no year before the war is offered.
    assert years == [str(year) for year in range(2022, today.year + 1)]
    await user.click(str(today.year))
    for _step in range(4):  # role, seniority, how, return
        await user.click(1)
    await user.click("Submit")
    assert "Thank you" in user.last_text
    [(_wave, week, answers)] = responses(sandbox)
    assert week == iso_week(today)
    assert f'"year_left":"{today.year}"' in str(answers)
