"""What is kept of an unanswered question: search terms only, nothing that identifies anyone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.knowledge.library import KnowledgeLibrary
from services.knowledge.question_terms import question_terms

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
VOCABULARY = KnowledgeLibrary(KNOWLEDGE).index.vocabulary

personal = st.one_of(
    st.from_regex(r"[a-z.]{1,8}@[a-z]{2,8}\.(com|by|pl)", fullmatch=True),
    st.from_regex(r"@[A-Za-z_]{3,12}", fullmatch=True),
    st.from_regex(r"(https?://|www\.)[a-z]{2,8}\.[a-z]{2,3}(/[a-z0-9?=&]{0,10})?", fullmatch=True),
    st.from_regex(r"\+?\d{1,3}([ -]?\(?\d{2,3}\)?){3,4}", fullmatch=True),
    st.from_regex(r"[A-Za-zА-Яа-я]{0,3}\d{5,12}[A-Za-z]{0,3}", fullmatch=True),
    st.sampled_from(["Іван", "Сяргей", "Ivan", "Kowalski", "Пётр", "tg://user?id=6100040001"]),
)
questions = st.lists(st.one_of(st.text(max_size=30), personal), max_size=12).map(" ".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(questions)
def test_no_terms_can_hold_an_id_a_contact_or_a_link(question: str) -> None:
    terms = question_terms(question, VOCABULARY)
    assert re.search(r"\d{5}", terms) is None
    assert "@" not in terms
    assert "://" not in terms
    assert "www" not in terms
    assert re.fullmatch(r"[a-z0-9 ]*", terms)  # so no e-mail or domain can be spelled either


@pytest.mark.parametrize(
    ("question", "kept", "dropped"),
    [
        (
            "Hi, I am Ivan Petrov (@ivan_petrov, ivan.petrov@gmail.com, +48 600 100 200), "
            "passport MP1234567, id6100040001: how do I get a karta pobytu? https://t.me/ivanp",
            "kart pobit",
            ["ivan", "petro", "gmail", "600", "mp123", "id610", "t me"],
        ),
        (
            "Меня зовут Сергей Иванов, паспорт AB7654321, телефон 8 (029) 765-43-21. "
            "Как получить карту побыту в Польше?",
            "kart pobit",
            ["serge", "ivano", "ab765", "765", "029"],
        ),
        (
            "Мяне завуць Аляксандр Кавалёў, пашпарт КН 2345678, мой нумар 375291234567. "
            "Як атрымаць карту пабыту ў Польшчы?",
            "kart pabit",
            ["aliak", "kaval", "kn", "23456", "37529"],
        ),
    ],
)
def test_names_contacts_and_document_numbers_are_dropped(
    question: str, kept: str, dropped: list[str]
) -> None:
    terms = question_terms(question, VOCABULARY)
    assert kept in terms
    for fragment in dropped:
        assert f" {fragment} " not in f" {terms} "


def test_words_the_guide_lacks_are_kept_so_admins_see_the_gap() -> None:
    assert question_terms("How do I bake sourdough bread?", VOCABULARY) == "bak sourd bread"
    assert question_terms("how do i bake sourdough bread", VOCABULARY) == "bak sourd bread"


def test_capitalised_words_the_guide_knows_are_kept() -> None:
    assert question_terms("PBH in Poland for IT people", VOCABULARY).split()[:2] == [
        "pbh",
        "polan",
    ]
