"""Words typed on the wrong keyboard: the other layout ("dbpf" for "віза"), or mixed scripts.

People switch between Latin and Cyrillic layouts many times a day, so a word typed with the wrong
one active is common, and so is a Cyrillic word with a Latin look-alike letter in it ("BHЖ").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from services.knowledge import folding

_LATIN_KEYS = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`"
# The same keys on the Russian and the Belarusian layouts.
_CYRILLIC_LAYOUTS = (
    "йцукенгшщзхъфывапролджэячсмитьбюё",
    "йцукенгшўзх'фывапролджэячсмітьбюё",
)
_TO_CYRILLIC = [str.maketrans(_LATIN_KEYS, layout) for layout in _CYRILLIC_LAYOUTS]
_TO_LATIN = [
    str.maketrans(layout + layout.upper(), _LATIN_KEYS + _LATIN_KEYS.upper())
    for layout in _CYRILLIC_LAYOUTS
]
# Latin letters that look like Cyrillic ones, as they slip into a Cyrillic word.
_LOOK_ALIKES = str.maketrans("aceopxyikmtABCEHKMOPTXYI", "асеорхуікмтАВСЕНКМОРТХУІ")
# Whole words only, keys that are letters on the other layout included ("ghjcnj;", "ифтл").
_LATIN_WORD = re.compile(r"(?<![\w;'\[\],.`])[a-zA-Z;'\[\],.`]{4,}(?![\w;'\[\],.`])")
_CYRILLIC_WORD = re.compile(r"(?<!\w)[а-яёіўА-ЯЁІЎ']{4,}(?!\w)")
_MIXED_WORD = re.compile(r"\w*[a-zA-Z]\w*")
_CYRILLIC_LETTER = re.compile(r"[а-яёіўА-ЯЁІЎ]")


def retype(text: str, is_known: Callable[[str], bool]) -> str:
    """`text` with each unknown word that `is_known` once retyped on the other layout so retyped,
    and Latin look-alike letters inside Cyrillic words made Cyrillic."""
    text = _MIXED_WORD.sub(_cyrillic_look_alikes, text)

    def other_layout(match: re.Match[str], layouts: list[dict[int, int]]) -> str:
        word = match[0]
        # A stop-word ("here") is left alone: on the other layout it may be a word ("руку").
        if not folding.words(word) or is_known(word):
            return word
        retyped = (word.lower().translate(layout) for layout in layouts)
        return next((candidate for candidate in retyped if is_known(candidate)), word)

    text = _LATIN_WORD.sub(lambda match: other_layout(match, _TO_CYRILLIC), text)
    return _CYRILLIC_WORD.sub(lambda match: other_layout(match, _TO_LATIN), text)


def _cyrillic_look_alikes(match: re.Match[str]) -> str:
    word = match[0]
    return word.translate(_LOOK_ALIKES) if _CYRILLIC_LETTER.search(word) else word
