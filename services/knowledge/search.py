"""Ranked search over every article in every language, whatever script the question uses.

Questions arrive in Belarusian, Russian, English or a mix, in Latin or Cyrillic, with typos and
inflections. Text is folded to one Latin spelling, words are cut to a short stem (which absorbs
most inflection), and a stem one edit away from a known one still counts, for less.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from services.knowledge.articles import KnowledgeBase

STEM = 5
FIELD_WEIGHTS = {"keywords": 3.0, "title": 2.5, "body": 1.0}
FUZZY_FACTOR = 0.6
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
_STOPWORDS = {
    # en
    "the",
    "and",
    "for",
    "how",
    "what",
    "can",
    "does",
    "with",
    "from",
    "are",
    "is",
    "to",
    "in",
    "of",
    "my",
    "me",
    "do",
    "an",
    "or",
    "it",
    "on",
    "at",
    "be",
    "if",
    "about",
    "there",
    "now",
    "get",
    "need",
    "i",
    "you",
    "should",
    "will",
    "which",
    "who",
    "any",
    # ru / be, after transliteration
    "kak",
    "chto",
    "eto",
    "dlia",
    "mne",
    "li",
    "ili",
    "pri",
    "est",
    "iak",
    "shto",
    "gety",
    "dlya",
    "na",
    "po",
    "ne",
    "da",
    "no",
    "so",
    "za",
    "ot",
    "ad",
    "iz",
    "ci",
    "tak",
    "uzhe",
    "mozhno",
    "mozhna",
    "nado",
    "treba",
    "kakie",
    "iakiia",
    "seichas",
    "zaraz",
    "kto",
    "khto",
}


def fold(text: str) -> str:
    """Lowercase, one Latin spelling for Cyrillic and Polish, no accents or punctuation."""
    text = text.casefold()
    text = "".join(_CYRILLIC.get(char, char) for char in text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = text.translate(_LATIN_FOLD)
    return re.sub(r"[^a-z0-9]+", " ", text)


def stems(text: str) -> list[str]:
    return [
        word[:STEM]
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


# Stems (after folding) that name a country or its capital, in any of our languages.
COUNTRY_STEMS = {
    "pl": {"polsh", "polsk", "polan", "polis", "polia", "varsh", "varsa", "krako", "vrocl"},
    "ge": {"gruzi", "georg", "tbili", "batum", "sakar"},
    "lt": {"litva", "litve", "litvu", "litov", "lithu", "lietu", "vilni", "vilno"},
    "uz": {"uzbek", "tashk"},
    "lv": {"latvi", "lativ", "riga", "rige"},
    "am": {"armen", "ierev", "ereva"},
    "rs": {"serbi", "belgr", "serbs"},
}
NAMED_COUNTRY_BOOST = 1.6
OTHER_COUNTRY_PENALTY = 0.5


def countries_named(query_stems: list[str]) -> set[str]:
    return {country for country, names in COUNTRY_STEMS.items() if names.intersection(query_stems)}


@dataclass(frozen=True)
class SearchHit:
    article_id: str
    score: float
    coverage: float  # share of the question's weight that matched


class SearchIndex:
    """Built once per knowledge base; `search` is pure and fast."""

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
        self._weights = dict(weights)
        self._country = {article.id: article.country for article in knowledge.articles.values()}
        document_frequency: dict[str, int] = defaultdict(int)
        for vocabulary in self._weights.values():
            for stem in vocabulary:
                document_frequency[stem] += 1
        total = max(len(self._weights), 1)
        self._idf = {
            stem: math.log(1 + (total - count + 0.5) / (count + 0.5))
            for stem, count in document_frequency.items()
        }
        # Inverted index, and every stem's one-deletion variants for typo look-ups (SymSpell).
        self._postings: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for article_id, vocabulary in self._weights.items():
            for stem, weight in vocabulary.items():
                self._postings[stem].append((article_id, weight))
        self._by_deletion: dict[str, list[str]] = defaultdict(list)
        for stem in self._idf:
            for variant in _deletions(stem):
                self._by_deletion[variant].append(stem)
        self._max_idf = max(self._idf.values(), default=1.0)

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

    def search(self, question: str, limit: int = 3) -> list[SearchHit]:
        query = list(dict.fromkeys(stems(question[:1000])))[:30]
        if not query:
            return []
        named = countries_named(query)
        possible = 0.0
        scores: dict[str, float] = defaultdict(float)
        matched: dict[str, float] = defaultdict(float)
        for stem in query:
            expanded = self._expand(stem)
            possible += max((self._idf[c] for c, _ in expanded), default=self._max_idf)
            best: dict[str, tuple[float, float]] = {}
            for candidate, factor in expanded:
                idf = self._idf[candidate]
                for article_id, weight in self._postings[candidate]:
                    value = weight * factor * idf
                    if value > best.get(article_id, (0.0, 0.0))[0]:
                        best[article_id] = (value, idf * factor)
            for article_id, (value, share) in best.items():
                scores[article_id] += value
                matched[article_id] += share
        hits = []
        for article_id, score in scores.items():
            if named:
                country = self._country[article_id]
                if country in named:
                    score *= NAMED_COUNTRY_BOOST
                elif country != "by":
                    score *= OTHER_COUNTRY_PENALTY
            coverage = matched[article_id] / possible if possible else 0.0
            hits.append(SearchHit(article_id, score, coverage))
        hits.sort(key=lambda hit: (-hit.score, hit.article_id))
        return hits[:limit]


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
        if hit.score >= MIN_SCORE and hit.coverage >= MIN_COVERAGE
    ]


def answer_question(index: SearchIndex, question: str) -> Answer:
    hits = confident_hits(index, question)
    if not hits:
        return Answer(None, ())
    if len(hits) == 1 or hits[0].score >= CLEAR_LEAD * hits[1].score:
        return Answer(hits[0].article_id, ())
    return Answer(None, tuple(hit.article_id for hit in hits))
