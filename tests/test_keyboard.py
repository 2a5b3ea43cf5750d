"""Words typed on the wrong keyboard layout, or with Latin look-alikes, are read as meant."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.knowledge import load_knowledge_base
from services.knowledge.keyboard import retype
from services.knowledge.search import SearchIndex, answer_question

ROOT = Path(__file__).resolve().parent.parent / "knowledge"


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex(load_knowledge_base(ROOT))


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("rfhnf gj,sne", "карта побыту"),  # Russian typed on the Latin layout
        ("how to open a ифтл account", "how to open a bank account"),  # and the other way
        ("BHЖ в Литве", "ВНЖ в Литве"),  # Latin look-alikes inside a Cyrillic word
    ],
)
def test_words_typed_on_the_wrong_layout_are_retyped(
    index: SearchIndex, typed: str, meant: str
) -> None:
    assert retype(typed, index.knows) == meant


@pytest.mark.parametrize(
    "text",
    [
        "here is my question",  # "here" is "руку" on the other layout, but a stop-word
        "draniki recipe",  # unknown either way
        "IT-визу в Узбекистан",  # scripts mixed across a hyphen, not inside a word
        "biaśpiečna",  # Łacinka letters are no layout slip
    ],
)
def test_words_that_are_no_layout_slip_stay_as_typed(index: SearchIndex, text: str) -> None:
    assert retype(text, index.knows) == text


def test_a_question_on_the_wrong_layout_finds_its_article(index: SearchIndex) -> None:
    assert answer_question(index, "rfhnf gjkzrf xnj lftn") == answer_question(
        index, "карта поляка что дает"
    )
