"""Search folds scripts and inflections, tolerates typos, and admits when it knows nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.sandbox.runtime import Sandbox
from services.knowledge import load_knowledge_base
from services.knowledge.search import SearchIndex, answer_question, fold

ROOT = Path(__file__).resolve().parent.parent / "knowledge"


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex(load_knowledge_base(ROOT))


def test_fold_unifies_latin_and_cyrillic() -> None:
    assert fold("карта побыту").split() == fold("Karta pobytu").split()
    assert fold("ПБХ") == fold("pbh")
    assert fold("Łódź wiza") == "lodz viza"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("karta pobytu", "pl-karta-pobytu"),
        ("карта побыту", "pl-karta-pobytu"),
        ("PBH", "pl-pbh"),
        ("ПБХ что теперь", "pl-pbh"),
        ("ИП в Грузии 1 процент", "ge-individual-entrepreneur"),
        ("IT Park Uzbekistan taxes", "uz-it-park"),
        ("блакітная карта Літва", "lt-blue-card"),
    ],
)
def test_typical_questions_find_their_article(
    index: SearchIndex, question: str, expected: str
) -> None:
    result = answer_question(index, question)
    offered = [result.article_id] if result.article_id else list(result.candidates)
    assert offered[0] == expected


@pytest.mark.parametrize(
    "question",
    [
        "",
        "   ",
        "🙂🙂🙂",
        '" * NEAR( OR',
        "how do I bake sourdough bread",
        "x" * 4096,
        "\u202eשלום\u202c",
    ],
)
def test_nonsense_finds_nothing_and_never_fails(index: SearchIndex, question: str) -> None:
    result = answer_question(index, question)
    assert result.article_id is None
    assert result.candidates == ()


async def test_private_question_is_answered_in_the_users_language(running: Sandbox) -> None:
    user = running.user(language_code="be")
    await user.send("karta pobytu MOS online")
    assert "Крыніцы:" in user.last_text
    assert any("Назад" in button for button in user.last_buttons)


async def test_unknown_question_says_so_and_offers_the_guide(running: Sandbox) -> None:
    user = running.user(language_code="en")
    await user.send("how do I bake sourdough bread")
    assert "did not find an answer" in user.last_text
    await user.click("Relocation guide")
    assert "Choose a country" in user.last_text


async def test_ask_in_a_group(running: Sandbox) -> None:
    admin = running.user(language_code="ru")
    group = await running.group("Belarusians in Tbilisi", added_by=admin)
    in_group = admin.in_chat(group)
    await in_group.send("/ask@vyraj_bot")
    assert "/ask karta pobytu" in in_group.last_text
    await in_group.send("/ask@vyraj_bot карта побыту онлайн MOS")
    assert "Источники:" in in_group.last_text


async def test_inline_mode_offers_articles_in_the_askers_language(running: Sandbox) -> None:
    user = running.user(language_code="ru")
    results = await user.inline("karta pobytu")
    assert results
    assert results[0]["id"] == "pl-karta-pobytu"
    assert "Источники:" in results[0]["input_message_content"]["message_text"]
    assert await user.inline("   ") == []
    assert await user.inline('" NEAR( * OR') == []
