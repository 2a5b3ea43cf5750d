"""Survey details found when it was tried: years that fit the status, "Yes" to return, a total
that does not jump, countries typed by name, named in every language and in each language's
alphabet order, paging labels that say what they do, Back when changing an answer."""

from __future__ import annotations

import pytest

from bot.sandbox.runtime import Sandbox
from handlers.survey.views import country_pages
from services.countries import collation_key, country_codes, country_name, find_countries
from services.survey.questions import (
    BY_CODE,
    COMMON_DESTINATIONS,
    applicable,
    progress,
    with_answer,
)
from tests.test_survey_flow import open_wave

THIS_YEAR = 2026
ABROAD = BY_CODE["country"].options

# Every option code a stored response or a published snapshot may hold: codes are never
# removed or reused, only added.
PUBLISHED_CODES = {
    "status": ("left_before", "left_after", "planning", "considering", "staying", "returned"),
    "year_left": ("before_2020", "2020", "2021", "2022", "2023", "2024", "2025", "2026"),
    "reasons": ("safety", "politics", "economy", "career", "family", "children", "other"),
    "deterrents": ("family", "documents", "cost", "language", "job", "housing", "other"),
    "role": ("developer", "qa", "devops", "pm", "ba", "designer", "data", "management", "other"),
    "seniority": ("junior", "middle", "senior", "lead", "executive"),
    "move_how": ("company_programme", "company_visa", "on_my_own", "not_applicable"),
    "return_plan": ("when_safe", "no", "undecided"),
    "destinations": (*COMMON_DESTINATIONS, "other"),
}


@pytest.mark.parametrize("code", sorted(PUBLISHED_CODES))
def test_no_published_answer_code_is_lost(code: str) -> None:
    assert set(PUBLISHED_CODES[code]) <= set(BY_CODE[code].options_in(THIS_YEAR))


def test_return_plan_offers_yes() -> None:
    assert "yes" in BY_CODE["return_plan"].options


@pytest.mark.parametrize(
    ("status", "years"),
    [
        ("left_before", ("before_2020", "2020", "2021", "2022")),
        ("left_after", ("2022", "2023", "2024", "2025", "2026")),
    ],
)
def test_the_years_offered_fit_the_status(status: str, years: tuple[str, ...]) -> None:
    year_left = BY_CODE["year_left"]
    assert year_left.options_for({"status": status}, THIS_YEAR) == years
    answers = with_answer({}, "status", status, THIS_YEAR)
    assert with_answer(answers, "year_left", years[0], THIS_YEAR)["year_left"] == years[0]


def test_a_year_ruled_out_by_a_changed_status_is_asked_again() -> None:
    answers = with_answer({"status": "left_before"}, "country", "PL", THIS_YEAR)
    answers = with_answer(answers, "year_left", "2020", THIS_YEAR)
    changed = with_answer(answers, "status", "left_after", THIS_YEAR)
    assert changed == {"status": "left_after", "country": "PL"}
    kept = with_answer(
        with_answer(answers, "year_left", "2022", THIS_YEAR), "status", "left_after", THIS_YEAR
    )
    assert kept["year_left"] == "2022"  # 2022 fits both sides of 24 Feb


def test_the_total_is_not_shown_until_it_is_known_and_then_does_not_move() -> None:
    assert progress({}, "status") == (1, None)
    for status in ("left_after", "planning", "staying", "-"):
        answers = {"status": status}
        totals = {progress(answers, q.code)[1] for q in applicable(answers)}
        assert totals == {len(applicable(answers))}


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Польшча", "PL"), ("польша", "PL"), ("Poland", "PL"), ("  poland! ", "PL"),
        ("Грузія", "GE"), ("грузия", "GE"), ("Чэхія", "CZ"), ("Чехия", "CZ"), ("Czechia", "CZ"),
        ("Czech Republic", "CZ"), ("USA", "US"), ("сша", "US"), ("UK", "GB"),
        ("Вялікабрытанія", "GB"), ("Іспанія", "ES"), ("Канада", "CA"), ("Israel", "IL"),
        ("Кот-д’Ивуар", "CI"), ("Cote d’Ivoire", "CI"), ("Sark", "CQ"),
    ],
)  # fmt: skip
def test_a_typed_name_in_any_language_finds_the_country(typed: str, code: str) -> None:
    assert find_countries(typed, ABROAD) == [code]


def test_a_typed_beginning_offers_the_few_it_may_mean_and_nothing_else() -> None:
    found = find_countries("Гвін", ABROAD)
    assert {"GN", "GW", "GQ"} <= set(found)
    assert all("гвін" in country_name(code, "be").casefold() for code in found)
    assert find_countries("Беларусь", ABROAD) == []  # abroad means not Belarus
    assert find_countries("Атлантыда", ABROAD) == []
    assert find_countries("a", ABROAD) == []
    assert len(find_countries("Ост", ABROAD, limit=3)) <= 3


@pytest.mark.parametrize("locale", ["be", "ru", "en"])
def test_every_country_has_a_name_not_a_bare_code(locale: str) -> None:
    for code in country_codes():
        assert country_name(code, locale) != code, code
    assert country_name("CQ", locale) == "Sark"  # no be/ru name in CLDR: English


@pytest.mark.parametrize(
    ("locale", "ordered"),
    [
        ("be", ("Егіпет", "Емен", "Зімбабвэ", "Іарданія", "Йемен", "Кабо-Вердэ")),
        ("be", ("Ужба", "Ўзбек", "Фіджы")),
        ("ru", ("Египет", "Ёлка", "Жуковка", "Йемен", "Ямайка")),
        ("en", ("Afghanistan", "Åland Islands", "Albania", "Côte d’Ivoire", "Croatia")),
    ],
)
def test_names_sort_in_each_languages_alphabet(locale: str, ordered: tuple[str, ...]) -> None:
    assert sorted(ordered, key=lambda name: collation_key(name, locale)) == list(ordered)


@pytest.mark.parametrize("locale", ["be", "ru", "en"])
def test_the_country_pages_follow_the_alphabet(locale: str) -> None:
    names = [country_name(code, locale) for page in country_pages(locale) for code in page]
    assert names == sorted(names, key=lambda name: collation_key(name, locale))
    if locale != "en":  # code-point order would put І, Ё or Latin names first
        assert names[0].startswith("А")


async def test_typing_a_country_answers_the_question(sandbox: Sandbox) -> None:
    await open_wave(sandbox)
    user = sandbox.user(language_code="be")
    await user.send("/survey")
    await user.click("Згаджаюся")
    await user.click("З’ехаў(-ла) пасля 24.02.2022")
    assert "Або напішыце назву краіны." in user.last_text
    await user.send("Атлантыда")
    assert "Не знайшоў такой краіны" in user.last_text
    await user.send("Гвін")
    assert user.last_text == "Якую менавіта?"
    await user.click("🇬🇳 Гвінея")
    years = [label for label in user.last_buttons if label.isdigit()]
    assert years[0] == "2022"  # left after the war began: no earlier year
    await user.click("⬅️ Назад")
    assert "🇬🇳 Гвінея" in user.last_text
    await user.send("Польша")  # Russian works in the Belarusian interface too
    assert "3/7" in user.last_text
    await user.send("Польша")  # the year question takes no typed country
    assert "Калі ласка, адказвайце кнопкамі вышэй" in user.last_text


async def test_commands_on_the_country_question_are_not_taken_for_a_country(
    sandbox: Sandbox,
) -> None:
    await open_wave(sandbox)
    user = sandbox.user(language_code="en")
    await user.send("/survey")
    await user.click("I agree")
    await user.click("Left after 24 Feb 2022")
    await user.send("/cancel")
    assert "Cancelled" in user.last_text


async def test_paging_labels_say_where_they_go(sandbox: Sandbox) -> None:
    await open_wave(sandbox)
    user = sandbox.user(language_code="en")
    await user.send("/survey")
    await user.click("I agree")
    await user.click("Left before 24 Feb 2022")
    assert "2/7" in user.last_text
    await user.click("🌍 More countries ▶️")
    pages = len(country_pages("en"))
    assert f"page 1 of {pages}" in user.last_text
    assert "◀️ Usual countries" in user.last_buttons
    await user.click("Next page ▶️")
    assert f"page 2 of {pages}" in user.last_text
    await user.click("◀️ Previous page")
    assert f"page 1 of {pages}" in user.last_text
    await user.click("◀️ Usual countries")
    assert "🇵🇱 Poland" in user.last_buttons
    await user.click("🇵🇱 Poland")
    assert "2/7" not in user.last_text
    assert "3/7" in user.last_text
    assert "Before 2020" in user.last_buttons
    assert "2023" not in user.last_buttons


async def test_changing_the_status_from_the_summary_offers_back(sandbox: Sandbox) -> None:
    await open_wave(sandbox)
    user = sandbox.user(language_code="en")
    await user.send("/survey")
    await user.click("I agree")
    await user.click("Left after 24 Feb 2022")
    await user.click("Poland")
    await user.click("2023")
    for _step in range(3):  # role, seniority, how
        await user.click(1)
    assert "Yes" in user.last_buttons  # plans to return
    await user.click("Yes")
    assert "Your answers" in user.last_text
    assert "Plans to return: Yes" in user.last_text
    await user.click("✏️ Change an answer")
    await user.click("Status")
    assert "⬅️ Back to the answers" in user.last_buttons
    await user.click("⬅️ Back to the answers")
    assert "Which answer do you want to change?" in user.last_text
    await user.click("Status")
    await user.click("Left before 24 Feb 2022")  # 2023 no longer fits: asked again
    assert "When did you leave Belarus?" in user.last_text
    await user.click("2021")
    assert "Your answers" in user.last_text
    assert "Year left: 2021" in user.last_text
