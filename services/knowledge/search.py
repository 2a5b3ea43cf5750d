"""Ranked search over every article in every language, whatever script the question uses.

Questions arrive in Belarusian, Russian, English or a mix, in Latin or Cyrillic, with typos and
inflections. Text is folded to one Latin spelling, words are cut to a short stem (which absorbs
most inflection), and a stem one edit away from a known one still counts, for less.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from services.countries import all_names, country_codes
from services.knowledge.articles import COUNTRIES, KnowledgeBase

STEM = 5
FIELD_WEIGHTS = {"keywords": 3.0, "title": 2.5, "body": 1.0}
HEADLINE_WEIGHT = FIELD_WEIGHTS["title"]
FUZZY_FACTOR = 0.6
PHRASE_WEIGHT = 2.0
CARD_SUFFIX = "-overview"  # a country card: an article about the country as a whole
_CYRILLIC = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "ґ": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "є": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "і": "i",
    "ї": "i",
    "й": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ў": "u",
    "ф": "f",
    "х": "h",
    "ц": "c",
    "ч": "ch",
    "ш": "sh",
    "щ": "sch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    "'": "",
    "’": "",
}
_LATIN_FOLD = str.maketrans({"ł": "l", "w": "v", "x": "ks", "q": "k", "j": "i", "y": "i"})
# Words that say nothing about the topic; Russian and Belarusian ones as they look once folded.
_STOPWORD_TEXT = """
    the and for how what can does with from are is to in of my me do an or it on at be if about
    there now get need you should will which who any this that we our your they them was were
    kak chto eto dlia mne li ili pri est iak shto gety dlya na po ne da no so za ot ad iz ci tak
    uzhe mozhno mozhna nado treba kakie iakiia seichas zaraz kto khto ia ty on ona oni mi vi my
    vy nam nas vam vas mnoi mene menia mianie sebia ego ee ikh iago ikh ikhni moi moia moe nash
    nasha vash teper ciaper togo tago posle paslia esli kali kogda tozhe taksama eshche
    iashche ochen vel mi vse usie vsio usio ves chem chim gde dze kuda kudy tam tut vot zhe bi
    by bil bila
    bilo bili budu budet budze bio bila slishal chuli slishali skazhite padkazhyce podskazhite
    pozhaluista kali laska privet pryvitanne hi hello thanks dziakui spasibo skolko kolki chtoby
    kab shchob en iana iany iano ion
    """


_IT = re.compile(r"\b(?:IT|ІТ|ИТ|АЙТИ|айти|айці)\b")


def fold(text: str) -> str:
    """Lowercase, one Latin spelling for Cyrillic and Polish, no accents or punctuation."""
    # "IT" is the topic of half the guide, but lowercase "it" is an English stopword.
    text = _IT.sub(" infotech ", text).casefold()
    text = "".join(_CYRILLIC.get(char, char) for char in text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = text.translate(_LATIN_FOLD)
    return re.sub(r"[^a-z0-9]+", " ", text)


_STOPWORDS = frozenset(fold(_STOPWORD_TEXT).split())

# Inflectional endings of Russian and Belarusian nouns and adjectives (folded), longest first.
_ENDING_TEXT = """
iami ami akh iakh ogo ego omu emu imi ymi ykh ikh aia iaia oe ee oi ei om em am iam ov ev
ia iu ie a u i e o y
"""
_ENDINGS = tuple(sorted(_ENDING_TEXT.split(), key=len, reverse=True))
MIN_ROOT = 3


def _stem(word: str) -> str:
    """Cut an inflectional ending (keeping at least MIN_ROOT letters), then keep STEM letters."""
    if not word.isdigit():
        for ending in _ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= MIN_ROOT:
                word = word[: -len(ending)]
                break
    return word[:STEM]


def stems(text: str) -> list[str]:
    return [
        _stem(word)
        for word in fold(text).split()
        if (len(word) >= 2 and word not in _STOPWORDS and not word.isdigit())
        or (word.isdigit() and len(word) >= 3)
    ]


def _one_edit_apart(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diffs) == 1 or (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


# Words that name a country or its main cities, in our languages and their common inflections.
COUNTRY_NAMES = {
    "pl": "Польша Польшча Польшу Польше Polska Poland polish польский польскі Варшава Warszawa "
    "Warsaw Кракаў Краков Krakow Вроцлаў Вроцлав Wroclaw",
    "ge": "Грузия Грузія Georgia georgian грузинский Тбилиси Тбілісі Tbilisi Батуми Batumi "
    "Sakartvelo",
    "lt": "Литва Літва Літве Литве Литву Lithuania lithuanian литовский літоўскі Lietuva Вильнюс "
    "Вільнюс Vilnius",
    "uz": "Узбекистан Узбекістан Uzbekistan uzbek узбекский Ташкент Tashkent",
    "lv": "Латвия Латвія Latvia latvian Рига Рыга Riga",
    "am": "Армения Арменія Armenia armenian Ереван Ерэван Yerevan",
    "rs": "Сербия Сербія Serbia serbian Белград Бялград Belgrade",
}
NAMED_COUNTRY_BOOST = 1.6
OTHER_COUNTRY_PENALTY = 0.5


COUNTRY_STEMS = {country: frozenset(stems(names)) for country, names in COUNTRY_NAMES.items()}


def countries_named(query_stems: list[str]) -> set[str]:
    return {country for country, names in COUNTRY_STEMS.items() if names.intersection(query_stems)}


# Countries and cities the guide has no articles about, which people often name.
_FOREIGN_ALIASES = (
    "USA США Америка America Amerika UK Британия Брытанія Britain England Англия Англія UAE ОАЭ "
    "ААЭ Emirates Эмираты Эміраты Dubai Дубай Berlin Берлин Берлін Prague Прага Toronto Торонта "
    "Торонто Lisbon Лиссабон Лісабон Istanbul Стамбул Limassol Лимассол Ларнака Larnaca"
)


def _foreign_stems() -> frozenset[str]:
    """Stems that name a country outside the guide (from CLDR's one-word names, and aliases)."""
    ours = set().union(*COUNTRY_STEMS.values())
    names = [
        name
        for code in country_codes()
        if code.lower() not in COUNTRIES
        for name in all_names(code)
        if len(name.split()) == 1
    ]
    found = {stem for name in names for stem in stems(name)} | set(stems(_FOREIGN_ALIASES))
    return frozenset(stem for stem in found if len(stem) >= 4 and stem not in ours)


FOREIGN_STEMS = _foreign_stems()
FOREIGN_PENALTY = 0.1
_PLACE_STEMS = FOREIGN_STEMS.union(*COUNTRY_STEMS.values())


@dataclass(frozen=True)
class SearchHit:
    article_id: str
    score: float
    coverage: float  # share of the question's weight that matched
    words: int = 0  # how many of the question's words it matched
    in_headline: bool = False  # some matched in its title or keywords

    @property
    def has_evidence(self) -> bool:
        """One word found only in an article's text is a coincidence, not an answer."""
        return self.words >= 2 or self.in_headline


class SearchIndex:
    """Built once per knowledge base; `search` is pure and fast.

    Scores live in dense numpy vectors (one slot per article), so a query costs a few vector
    operations per word however long the posting lists grow.
    """

    def __init__(self, knowledge: KnowledgeBase) -> None:
        weights: dict[str, dict[str, float]] = defaultdict(dict)  # article -> stem -> weight
        for article in knowledge.articles.values():
            fields = {
                "keywords": " ".join(article.keywords),
                "title": article.title,
                "body": article.body,
            }
            vocabulary = weights[article.id]
            for field_name, text in fields.items():
                for stem in stems(text):
                    vocabulary[stem] = max(vocabulary.get(stem, 0.0), FIELD_WEIGHTS[field_name])
            # Two-word names ("karta pobytu", "blue card") match as a phrase, for more.
            for phrase in (*article.keywords, article.title):
                for pair in _pairs(stems(phrase)):
                    vocabulary[pair] = PHRASE_WEIGHT
        self._ids = sorted(weights)
        countries = {article.id: article.country for article in knowledge.articles.values()}
        self._country = np.array([countries[article_id] for article_id in self._ids])
        self._is_card = np.array([article_id.endswith(CARD_SUFFIX) for article_id in self._ids])
        postings: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        for slot, article_id in enumerate(self._ids):
            for stem, weight in weights[article_id].items():
                slots, stem_weights = postings[stem]
                slots.append(slot)
                stem_weights.append(weight)
        total = max(len(self._ids), 1)
        self._idf = {
            stem: math.log(1 + (total - len(slots) + 0.5) / (len(slots) + 0.5))
            for stem, (slots, _) in postings.items()
        }
        self._postings = {
            stem: (np.array(slots, dtype=np.int32), np.array(stem_weights, dtype=np.float64))
            for stem, (slots, stem_weights) in postings.items()
        }
        # Every stem's one-deletion variants, for typo look-ups (SymSpell).
        self._by_deletion: dict[str, list[str]] = defaultdict(list)
        for stem in self._idf:
            if "+" in stem:
                continue
            for variant in _deletions(stem):
                self._by_deletion[variant].append(stem)
        self._max_idf = max(self._idf.values(), default=1.0)
        # Every single-word stem the guide knows (what a question's terms are checked against).
        self.vocabulary = frozenset(stem for stem in self._idf if "+" not in stem)

    def _expand(self, stem: str) -> list[tuple[str, float]]:
        """The stem itself if known, else known stems one edit away (for words of 4+ letters)."""
        if stem in self._idf:
            return [(stem, 1.0)]
        if len(stem) < 4:
            return []
        candidates = {
            candidate
            for variant in _deletions(stem)
            for candidate in self._by_deletion.get(variant, ())
            if _one_edit_apart(stem, candidate)
        }
        return [(candidate, FUZZY_FACTOR) for candidate in sorted(candidates)]

    def _country_factor(self, named: set[str]) -> npt.NDArray[np.float64]:
        in_named = np.isin(self._country, sorted(named))
        neutral = self._country == "by"
        elsewhere = np.where(neutral, 1.0, OTHER_COUNTRY_PENALTY)
        return np.where(in_named, NAMED_COUNTRY_BOOST, elsewhere)

    def search(self, question: str, limit: int = 3) -> list[SearchHit]:
        words = stems(question[:1000])[:30]
        named = countries_named(words)
        query = list(dict.fromkeys(words))
        if not query or not self._ids:
            return []
        size = len(self._ids)
        scores = np.zeros(size)
        matched = np.zeros(size)
        for pair in dict.fromkeys(_pairs(words)):
            if pair in self._postings:
                slots, pair_weights = self._postings[pair]
                scores[slots] += pair_weights * self._idf[pair]
        # Coverage measures the topic: a country's name alone ("coworkings in Tbilisi") is not
        # one, except for a country card, whose topic is the country.
        place_names = _PLACE_STEMS.intersection(query)
        if place_names == set(query):
            place_names = frozenset()
        possible = np.zeros(size)
        words_matched = np.zeros(size)
        in_headline = np.zeros(size, dtype=bool)
        for stem in query:
            expanded = self._expand(stem)
            counts = self._is_card if stem in place_names else 1.0
            possible += counts * max((self._idf[c] for c, _ in expanded), default=self._max_idf)
            if not expanded:
                continue
            best_value = np.zeros(size)
            best_share = np.zeros(size)
            for candidate, factor in expanded:
                idf = self._idf[candidate]
                slots, stem_weights = self._postings[candidate]
                values = stem_weights * (factor * idf)
                better = values > best_value[slots]
                best_value[slots[better]] = values[better]
                best_share[slots[better]] = idf * factor
                in_headline[slots[stem_weights >= HEADLINE_WEIGHT]] = True
            scores += best_value
            matched += counts * best_share
            words_matched += best_value > 0
        if named:
            scores *= self._country_factor(named)
        for stem in FOREIGN_STEMS.intersection(words):
            # An article not about the country asked about (in its title or keywords) cannot
            # be the answer, even if its text names that country in passing.
            mentions = np.full(size, FOREIGN_PENALTY)
            if stem in self._postings:
                slots, stem_weights = self._postings[stem]
                mentions[slots[stem_weights >= HEADLINE_WEIGHT]] = 1.0
            scores *= mentions
        found = np.flatnonzero(scores > 0)
        if found.size > limit:
            # The `limit` best, plus any tied with the last of them (ties break by id).
            threshold = np.partition(scores[found], found.size - limit)[found.size - limit]
            found = found[scores[found] >= threshold]
        hits = [
            SearchHit(
                self._ids[slot],
                float(scores[slot]),
                float(matched[slot] / possible[slot]),
                int(words_matched[slot]),
                bool(in_headline[slot]),
            )
            for slot in found
        ]
        hits.sort(key=lambda hit: (-hit.score, hit.article_id))
        return hits[:limit]


def _pairs(words: list[str]) -> list[str]:
    return [f"{first}+{second}" for first, second in itertools.pairwise(words)]


def _deletions(stem: str) -> set[str]:
    return {stem[:i] + stem[i + 1 :] for i in range(len(stem))}


@dataclass(frozen=True)
class Answer:
    """What to tell the person: one article, a few candidates, or nothing."""

    article_id: str | None
    candidates: tuple[str, ...]


MIN_SCORE = 4.0
MIN_COVERAGE = 0.3
CLEAR_LEAD = 1.25


def confident_hits(index: SearchIndex, question: str, limit: int = 3) -> list[SearchHit]:
    """Hits above the confidence threshold, best first."""
    return [
        hit
        for hit in index.search(question, limit=limit)
        if hit.score >= MIN_SCORE and hit.coverage >= MIN_COVERAGE and hit.has_evidence
    ]


def answer_question(index: SearchIndex, question: str) -> Answer:
    hits = confident_hits(index, question)
    if not hits:
        return Answer(None, ())
    if len(hits) == 1 or hits[0].score >= CLEAR_LEAD * hits[1].score:
        return Answer(hits[0].article_id, ())
    return Answer(None, tuple(hit.article_id for hit in hits))
