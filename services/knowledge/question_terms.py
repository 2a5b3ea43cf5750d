"""What may be kept of a question the guide could not answer: its search terms, nothing personal.

Admins need to know which topics are missing, not who asked or what else they wrote. So names,
contacts, links and numbers that could identify anyone are dropped before the words are folded
and stemmed exactly as the search folds them. Text kept as typed (a reader's note on an
article) gets the same numbers and contacts masked instead.
"""

from __future__ import annotations

import re

from services.knowledge.folding import fold, stems

MAX_TERMS = 30
MASK = "***"  # what stands in for a number or contact in text kept as typed
# Numbers written with spaces, dashes, dots or brackets: "+48 600-100-200", "8 (029) 123-45-67".
_SPACED_NUMBER = re.compile(r"(?<!\w)\+?\(?\d[\d\s().\-/]*\d(?!\w)")
MIN_IDENTIFYING_DIGITS = 5
_LONG_DIGIT_RUN = re.compile(r"\d{5,}")
# A document number mixes letters and digits ("MP1234567", "id6100040001"); "B1" or "4g" do not.
MAX_DIGITS_IN_A_WORD = 2
_LINK = re.compile(r"://|^www\.|^\W*[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?:[/?#:]\S*)?\W*$")


def question_terms(text: str, vocabulary: frozenset[str]) -> str:
    """The question's normalised search terms, without anything that looks personal."""
    text = _SPACED_NUMBER.sub(_drop_identifying_number, text)
    terms: list[str] = []
    for token in text.split():
        if "@" in token or _LINK.search(token) or _is_unknown_name(token, vocabulary):
            continue
        for word in fold(token).split():
            if not _looks_like_a_number_of_someone(word):
                terms.extend(stems(word))
    return " ".join(list(dict.fromkeys(terms))[:MAX_TERMS])


def _drop_identifying_number(match: re.Match[str]) -> str:
    digits = sum(char.isdigit() for char in match.group())
    return " " if digits >= MIN_IDENTIFYING_DIGITS else match.group()


def _looks_like_a_number_of_someone(word: str) -> bool:
    digits = sum(char.isdigit() for char in word)
    mixed = digits > MAX_DIGITS_IN_A_WORD and not word.isdigit()
    return mixed or _LONG_DIGIT_RUN.search(word) is not None


def _is_unknown_name(token: str, vocabulary: frozenset[str]) -> bool:
    """A capitalised word the guide does not know is most likely a person's or a firm's name."""
    letters = [char for char in token if char.isalpha()]
    if not letters or not letters[0].isupper():
        return False
    return not set(stems(token)) <= vocabulary


def mask_identifying(text: str) -> str:
    """`text` as typed, with the numbers and contacts that `question_terms` drops masked."""
    text = _SPACED_NUMBER.sub(_mask_identifying_number, text)
    return re.sub(r"\S+", _mask_contact_or_number, text)


def _mask_identifying_number(match: re.Match[str]) -> str:
    return MASK if _drop_identifying_number(match) == " " else match.group()


def _mask_contact_or_number(match: re.Match[str]) -> str:
    token = match.group()
    if "@" in token or any(_looks_like_a_number_of_someone(word) for word in fold(token).split()):
        return MASK
    return token
