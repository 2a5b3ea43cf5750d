"""Ranked search over every article in every language, whatever script the question uses.

Questions arrive in Belarusian, Russian, English or a mix, in Latin or Cyrillic, with typos and
inflections. Text is folded to one Latin spelling, words are cut to a short stem (which absorbs
most inflection), and a long word one edit away from a known one still counts, for less, though
never as evidence on its own.
"""

from __future__ import annotations

import itertools
import math
import re
from array import array
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from services.countries import all_names, country_codes
from services.knowledge import folding, keyboard
from services.knowledge.articles import COUNTRIES, Article, KnowledgeBase
from services.knowledge.folding import stems

FIELD_WEIGHTS = {"keywords": 3.0, "title": 2.5, "body": 1.0}
HEADLINE_WEIGHT = FIELD_WEIGHTS["title"]
FUZZY_FACTOR = 0.6
PHRASE_WEIGHT = 2.0
# A word in the titles or keywords of this few articles ("PBH") is evidence alone; "living"
# or "card" is not, except in the card of the country asked about.
DISTINCTIVE_ARTICLES = 3
# Among the articles of the country asked about, a word in the title or keywords of this few
# ("visa" of Uzbekistan's two visa articles) tells them from the rest of that country's.
DISTINCTIVE_IN_COUNTRY = 2
CARD_SUFFIX = "-overview"
LONE_WORD_COVERAGE = 0.5
COMMON_SHARE = 0.3


# Every article is for Belarusians: naming Belarus says nothing about the topic.
_HOME_NAMES = (
    "Беларусь Беларусі Belarus belarusian беларус беларусы белорус белорусы Biełaruś РБ RB "
    "Мінск Минск Minsk Менск"
)
_HOME_STEMS = frozenset(stems(_HOME_NAMES))
# Living abroad is where every reader is, not a topic: "inheritance, if I live abroad" is no
# question about the taxes of those living abroad.
_ABROAD_STEMS = frozenset(stems("abroad living за границей за рубежом"))


# Below this many letters of root one edit turns a word into another (cook/book); a typo
# rarely hits the first two letters, so a different start is another word (grani/draniki).
FUZZY_MIN_ROOT = 5
FUZZY_SHARED_PREFIX = 2
# A root this long with a single known word one edit away is taken for that word: "rezedent"
# is "rezident", but "stazh" (work record) is not "strazh" (border guard).
SURE_TYPO_ROOT = 6


@dataclass(frozen=True)
class Term:
    """One word of a question: its stem, and its root when a near miss may be a typo of it."""

    stem: str
    typo_root: str = ""  # empty: too short for a typo guess
    names_a_topic: bool = True  # not an action ("moving", "зачынілі")
    root: str = ""  # the word without its inflection, to tell words sharing a stem apart


def query_terms(text: str) -> list[Term]:
    """The question's words in order, each stem once."""
    terms: dict[str, Term] = {}
    for word in folding.words(text):
        root = folding.root(word)
        stem = root[: folding.STEM]
        # An ending cut from a typo ("polsih" is "pols" + "их") leaves too little to guess
        # from; the whole word is then the guess.
        guess = root if len(root) >= FUZZY_MIN_ROOT else word
        typo_root = guess if len(guess) >= FUZZY_MIN_ROOT and not word.isdigit() else ""
        if stem not in terms or (typo_root and not terms[stem].typo_root):
            terms[stem] = Term(stem, typo_root, not folding.looks_like_a_verb(word), _own(word))
    return list(terms.values())


def _own(word: str) -> str:
    """The root that tells the word from others sharing its stem; a root as short as
    MIN_ROOT may be another word's ("care" and "car"), so the word stands for itself."""
    root = folding.root(word)
    return root if len(root) > folding.MIN_ROOT else word


# Two roots sharing a stem are one word when they differ only in this many final letters
# (an inflection: "visas"/"visa", "permic"/"permit"); "employer" is not "employment".
SAME_WORD_TAIL = 2
# An action and a noun sharing this many first letters name one thing ("recognised" and
# "recognition", "рэгістравацца" and "рэгістрацыя"); "employ" and "mater" are shorter.
SAME_ACTION_PREFIX = 7


def _shared_prefix(a: str, b: str) -> int:
    shared = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)
    return min(len(a), len(b)) if shared is None else shared


def same_word(a: str, b: str, action: bool = False) -> bool:
    """Roots of one word, differing at most in an inflection the root did not cut; for an
    action (`a` a verb form), also a noun made from it."""
    if min(len(a), len(b)) <= folding.MIN_ROOT:
        return a == b  # "car" is no form of "care"
    shared = _shared_prefix(a, b)
    return max(len(a), len(b)) - shared <= SAME_WORD_TAIL or (
        action and shared >= SAME_ACTION_PREFIX
    )


def _akanye(start: str) -> str:
    """An unstressed "о" is said, and often typed, "а" ("галубая" for "голубая")."""
    return start.replace("o", "a")


def _one_edit_apart(a: str, b: str) -> bool:
    """One insertion, deletion, substitution or swap of neighbours, past the shared prefix."""
    shared = FUZZY_SHARED_PREFIX
    if abs(len(a) - len(b)) > 1 or a == b or _akanye(a[:shared]) != _akanye(b[:shared]):
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
# Łacinka, taraškievica and local spellings (Polšča, Letuva, Srbija) fold differently, so they
# are listed too.
COUNTRY_NAMES = {
    "pl": "Польша Польшча Польшу Польше Polska Poland polish польский польскі PL ПЛ Варшава "
    "Warszawa Warsaw Кракаў Краков Krakow Вроцлаў Вроцлав Wroclaw Polšča Polščy Polšču Varšava "
    "Varšavie Гданьск Gdańsk Лодзь Łódź Беласток Белосток Białystok Люблін Люблин "
    "Lublin Катавіцэ Катовице Katowice",
    "ge": "Грузия Грузія Georgia georgian грузинский Тбилиси Тбілісі Tbilisi Батуми Batumi "
    "Sakartvelo Hruzija Hruzii Hruziju Кутаісі Кутаиси Kutaisi",
    "lt": "Литва Літва Літве Литве Литву Lithuania lithuanian литовский літоўскі Lietuva Вильнюс "
    "LT ЛТ Вільнюс Vilnius Litva Litvie Litvu Letuva Летува Летуве Летуву Vilnia Вільня Вільні "
    "Каўнас Каунас Kaunas Клайпеда Klaipėda",
    "uz": "Узбекистан Узбекістан Uzbekistan uzbek узбекский Ташкент Tashkent Uzbiekistan Taškient "
    "Ozbekiston UZ",
    "lv": "Латвия Латвія Latvia latvian Рига Рыга Riga Łatvija Łatvii Латвіі Ryha LV "
    "Даўгаўпілс Даугавпилс Daugavpils",
    "am": "Армения Арменія Armenia armenian Ереван Ерэван Yerevan Armienija Jerevan "
    "Hayastan Гюмры Гюмри Gyumri",
    "rs": "Сербия Сербія Serbia serbian Белград Бялград Belgrade Sierbija Sierbii Bialhrad Srbija "
    "Srbiji Beograd",
}
NAMED_COUNTRY_BOOST = 1.6
# A topic word (not an action) that no article holds, even misspelt, weighs this many times
# the rarest known word against coverage: it names a topic the guide lacks ("ипотека").
UNKNOWN_WEIGHT = 2.0
OTHER_COUNTRY_PENALTY = 0.5
# A general article that never names the country a question is about, when the question is
# not about Belarus and the country is not just where the person lives.
SILENT_GENERAL_WEIGHT = 0.6


COUNTRY_STEMS = {country: frozenset(stems(names)) for country, names in COUNTRY_NAMES.items()}


def countries_named(query_stems: list[str]) -> set[str]:
    return {country for country, names in COUNTRY_STEMS.items() if names.intersection(query_stems)}


# Countries and cities the guide has no articles about, which people often name.
_FOREIGN_ALIASES = (
    "USA США ЗША Америка America Amerika UK Британия Брытанія Britain England Англия Англія UAE "
    "ОАЭ ААЭ Emirates Эмираты Эміраты Dubai Дубай Berlin Берлин Берлін Prague Прага Toronto "
    "Торонта Торонто Lisbon Лиссабон Лісабон Istanbul Стамбул Limassol Лимассол Ларнака Larnaca "
    "Turkey Нямеччына Niamieččyna Czech Spanish Dutch Cypriot"
)


def _foreign_stems() -> frozenset[str]:
    """Stems that name a country outside the guide (from CLDR's one-word names, and aliases)."""
    ours = set().union(*COUNTRY_STEMS.values())
    names = [
        name
        for code in country_codes()
        if code.lower() not in COUNTRIES
        for name in all_names(code)
        if len(folding.fold(name).split()) == 1  # not "Сент-Люсія": "sent" is no country
    ]
    found = {stem for name in names for stem in stems(name) if len(stem) >= 4}
    # Aliases are chosen by hand, so short ones ("UAE", "USA") are safe too.
    found |= {stem for stem in stems(_FOREIGN_ALIASES) if len(stem) >= 3}
    return frozenset(found - ours)


FOREIGN_STEMS = _foreign_stems()
# An article that names the country asked about only in passing weighs this much; one about
# a country of the guide (or about some of them) not at all: it cannot answer for another.
FOREIGN_PENALTY = 0.1
_PLACE_STEMS = FOREIGN_STEMS.union(*COUNTRY_STEMS.values(), _HOME_STEMS)


@dataclass(frozen=True)
class SearchHit:
    article_id: str
    score: float
    coverage: float  # share of the question's weight matched, in its best-covered stretch
    words: int = 0  # topic words (not place names) it matched exactly, not as a likely typo
    in_headline: bool = False  # a distinctive one of those is in its title or keywords
    place_score: float = 0.0  # the part of the score owed to naming its country
    named_in_headline: bool = False  # any of its matched topic words is in its title or keywords
    lacks_topic: bool = False  # the question names a topic no article holds ("ипотека")
    elsewhere: bool = False  # the topic is in a country this article is not about
    unheld: int = 0  # topic words of the question asked that it holds not even as a guess
    specific_words: int = 0  # those of `words` that most articles do not hold
    asked_score: float = 0.0  # the part of the score owed to the sentences that ask
    in_story: bool = False  # the question is asked in a message with a story around it

    @property
    def lone_word_suffices(self) -> bool:
        """One matched word is enough when nothing else the question names is missing."""
        return self.words >= 2 or self.unheld == 0 or self.coverage >= LONE_WORD_COVERAGE

    @property
    def has_evidence(self) -> bool:
        """One word found only in an article's text, or only typo guesses, is a coincidence."""
        if self.in_headline and self.lone_word_suffices:
            return True
        # Words found only in its text, when a one-sentence question names something it
        # lacks, are a long article's chance ("employer", "pay", "months" of unpaid wages).
        if self.specific_words >= BODY_EVIDENCE_WORDS and (
            self.named_in_headline or self.unheld == 0 or self.in_story
        ):
            return True
        return self.words >= 2 and self.named_in_headline


# Words found only in an article's text are evidence when there are this many: two common
# ones ("cover letter" for a "developer job") are found in some article by chance.
BODY_EVIDENCE_WORDS = 3

# Coverage is also measured over every stretch of this many topic words, so that context
# around the key phrase of a long message does not sink it.
COVERAGE_WINDOW = 4


def _best_coverage(
    matched: npt.NDArray[np.float64], possible: npt.NDArray[np.float64], window_rows: list[int]
) -> npt.NDArray[np.float64]:
    """Per article, the better of whole-question coverage and best-window coverage.

    `matched` and `possible` hold one row per question term, one column per article; windows
    run over `window_rows` (the topic words, in order).
    """
    whole: npt.NDArray[np.float64] = matched.sum(axis=0) / np.maximum(possible.sum(axis=0), 1e-9)
    if len(window_rows) <= COVERAGE_WINDOW:
        return whole
    zero = np.zeros((1, matched.shape[1]))
    matched_sums = np.vstack((zero, matched[window_rows].cumsum(axis=0)))
    possible_sums = np.vstack((zero, possible[window_rows].cumsum(axis=0)))
    window_matched = matched_sums[COVERAGE_WINDOW:] - matched_sums[:-COVERAGE_WINDOW]
    window_possible = possible_sums[COVERAGE_WINDOW:] - possible_sums[:-COVERAGE_WINDOW]
    windows = window_matched / np.maximum(window_possible, 1e-9)
    best: npt.NDArray[np.float64] = np.maximum(whole, windows.max(axis=0))
    return best


class Postings(Mapping[str, tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]]]):
    """Every stem's articles (slots) and field weights, as views into two shared arrays.

    Two small arrays per stem cost ~250 bytes of headers each; one pair for all costs none.
    """

    def __init__(self, stem_number: dict[str, int], entries: PostingEntries) -> None:
        self._stem_number = stem_number
        numbers = np.asarray(entries.stems, dtype=np.int32)
        # Entries come in article order; a stable sort by stem keeps each stem's slots sorted.
        order = np.argsort(numbers, kind="stable")
        self._slots = np.asarray(entries.slots, dtype=np.int32)[order]
        self._weights = np.asarray(entries.weights, dtype=np.float64)[order]
        counts = np.bincount(numbers, minlength=len(stem_number)).tolist()
        # A C array, not a list: one Python int per stem would cost ~40 bytes more each.
        self._bounds = array("i", [0, *itertools.accumulate(counts)])

    def __getitem__(self, stem: str) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]]:
        number = self._stem_number[stem]
        start, end = self._bounds[number], self._bounds[number + 1]
        return self._slots[start:end], self._weights[start:end]

    def __contains__(self, stem: object) -> bool:
        return stem in self._stem_number

    def __iter__(self) -> Iterator[str]:
        return iter(self._stem_number)

    def __len__(self) -> int:
        return len(self._stem_number)

    def frequencies(self) -> Iterator[tuple[str, int]]:
        """Each stem with the number of articles holding it."""
        for stem, number in self._stem_number.items():
            yield stem, self._bounds[number + 1] - self._bounds[number]


class PostingEntries:
    """(stem number, slot, weight) for each stem of each article, as flat C arrays while the
    index is built: no list, tuple or dict per stem, whose scraps would stay resident."""

    def __init__(self) -> None:
        self.stems = array("i")
        self.slots = array("i")
        self.weights = array("d")

    def add(self, slot: int, vocabulary: dict[str, float], stem_number: dict[str, int]) -> None:
        for stem, weight in vocabulary.items():
            self.stems.append(stem_number.setdefault(stem, len(stem_number)))
            self.slots.append(slot)
            self.weights.append(weight)


class DeletionVariants:
    """Which known roots lose one letter to become a given string (SymSpell's table).

    Kept as one sorted array of the variants' hashes beside their roots' numbers, not as a
    dict of lists of strings (~5 MB at 120 articles); a hash collision is checked away.
    """

    def __init__(self, roots: Iterable[str]) -> None:
        self._roots = sorted(roots)
        # Straight into arrays: a list of Python ints would briefly cost five times as much.
        hashes = np.fromiter(
            (hash(variant) for root in self._roots for variant in _deletions(root)),
            dtype=np.int64,
        )
        counts = [len(_deletions(root)) for root in self._roots]
        owners = np.repeat(np.arange(len(self._roots), dtype=np.int32), counts)
        order = np.argsort(hashes, kind="stable")
        self._hashes = hashes[order]
        self._owners = owners[order]

    def roots_with_any(self, variants: Collection[str]) -> set[str]:
        """The known roots that are one of `variants` with one letter more."""
        keys = np.fromiter(map(hash, variants), dtype=np.int64, count=len(variants))
        starts = np.searchsorted(self._hashes, keys, side="left").tolist()
        ends = np.searchsorted(self._hashes, keys, side="right").tolist()
        return {
            root
            for variant, start, end in zip(variants, starts, ends, strict=True)
            for root in (self._roots[number] for number in self._owners[start:end].tolist())
            if variant in _deletions(root)
        }


class SearchIndex:
    """Built once per knowledge base; `search` is pure and fast.

    Scores live in dense numpy vectors (one slot per article), so a query costs a few vector
    operations per word however long the posting lists grow.
    """

    def __init__(self, knowledge: KnowledgeBase) -> None:
        roots: dict[str, str] = {}  # every known word's root -> its stem, for typo look-ups
        short_words: dict[str, str] = {}  # known four-letter words -> their stems, for swaps
        # Per stem, each article slot holding it in its title or keywords, with the root there.
        headline_roots: dict[str, list[tuple[int, str]]] = defaultdict(list)
        versions: dict[str, list[Article]] = defaultdict(list)  # id -> its languages' articles
        for article in knowledge.articles.values():
            versions[article.id].append(article)
        self._ids = sorted(versions)
        countries = {article.id: article.country for article in knowledge.articles.values()}
        self._country = np.array([countries[article_id] for article_id in self._ids])
        self._in_country = {
            country: self._country == country for country in (*COUNTRIES, *COUNTRY_STEMS)
        }
        # Per country, the general articles (about Belarus, for every country) that name it...
        general_naming: dict[str, list[bool]] = {country: [] for country in COUNTRY_STEMS}
        # ...and those that name it in their title or keywords: they are about it too.
        general_about: dict[str, list[bool]] = {country: [] for country in COUNTRY_STEMS}
        # One article's vocabulary at a time, straight into flat arrays (a lower build peak).
        stem_number: dict[str, int] = {}
        entries = PostingEntries()
        for slot, article_id in enumerate(self._ids):
            vocabulary: dict[str, float] = {}  # stem -> weight
            headlines: set[tuple[str, str]] = set()  # (stem, root) in a title or keywords
            for article in versions[article_id]:
                fields = {
                    "keywords": " ".join(article.keywords),
                    "title": article.title,
                    "body": article.body,
                }
                for field_name, text in fields.items():
                    field_weight = FIELD_WEIGHTS[field_name]
                    for word in folding.words(text):
                        root = folding.root(word)
                        stem = root[: folding.STEM]
                        vocabulary[stem] = max(vocabulary.get(stem, 0.0), field_weight)
                        if len(root) >= FUZZY_MIN_ROOT - 1 and not root.isdigit():
                            roots[root] = stem
                        if len(word) == FUZZY_MIN_ROOT - 1:
                            short_words[word] = stem
                        if field_weight >= HEADLINE_WEIGHT:
                            headlines.add((stem, _own(word)))
                # Two-word names ("karta pobytu", "blue card") match as a phrase, for more.
                for phrase in (*article.keywords, article.title):
                    for pair in _pairs(stems(phrase)):
                        vocabulary[pair] = PHRASE_WEIGHT
            general = countries[article_id] == "by"
            for country, names in COUNTRY_STEMS.items():
                general_naming[country].append(general and not names.isdisjoint(vocabulary))
                general_about[country].append(
                    general and any(vocabulary.get(name, 0.0) >= HEADLINE_WEIGHT for name in names)
                )
            entries.add(slot, vocabulary, stem_number)
            for stem, root in sorted(headlines):
                headline_roots[stem].append((slot, root))
        self._general_naming = {
            country: np.array(naming, dtype=bool) for country, naming in general_naming.items()
        }
        self._general_about = {
            country: np.array(about, dtype=bool) for country, about in general_about.items()
        }
        # Articles about particular countries of the guide, the general ones among them too.
        # dtype=bool throughout: an empty guide must still give boolean masks (numpy makes
        # an empty list a float array).
        self._country_specific = np.array(
            [countries[article_id] != "by" for article_id in self._ids], dtype=bool
        ) | np.stack(list(self._general_about.values())).any(axis=0)
        # Each article's titles as stems, one set per language: a tie goes to the article
        # whose title the question fills most ("visa for Uzbekistan": not its "IT visa").
        # Kept as one string per article (titles split by "|"): a few bytes, not a set each.
        self._title_stems = {
            article_id: "|".join(" ".join(stems(text.title)) for text in versions[article_id])
            for article_id in self._ids
        }
        self._is_card = np.array(
            [article_id.endswith(CARD_SUFFIX) for article_id in self._ids], dtype=bool
        )
        self._postings = Postings(stem_number, entries)
        del entries  # its arrays are copied into the postings; freed before the typo table
        total = max(len(self._ids), 1)
        self._idf = {
            stem: math.log(1 + (total - count + 0.5) / (count + 0.5))
            for stem, count in self._postings.frequencies()
        }
        # Every known root's one-deletion variants, for typo look-ups (SymSpell). Roots, not
        # stems: "polsih" is one edit from "polish", but its stem "polsi" is one from five.
        self._roots = roots
        self._headline_roots = dict(headline_roots)
        self._short_words = short_words
        self._by_deletion = DeletionVariants(roots)
        self._max_idf = max(self._idf.values(), default=1.0)
        # Every single-word stem the guide knows (what a question's terms are checked against).
        self.vocabulary = frozenset(stem for stem in self._idf if "+" not in stem)

    def _expand(self, term: Term) -> list[tuple[str, float]]:
        """The stem itself if known, else (for long words) stems of known words one edit away."""
        if term.stem in self._idf:
            return [(term.stem, 1.0)]
        if not term.typo_root:
            # A four-letter word is too short for any edit, but two swapped letters past the
            # first are still a typo ("vias"), and rarely another word.
            swapped = {
                self._short_words[variant]
                for variant in _swaps(term.stem)
                if variant in self._short_words
            }
            return [(candidate, FUZZY_FACTOR) for candidate in sorted(swapped)]
        variants = (*_deletions(term.typo_root), term.typo_root)
        candidates = {
            self._roots[candidate]
            for candidate in self._by_deletion.roots_with_any(variants)
            if _one_edit_apart(term.typo_root, candidate)
        }
        if not candidates:
            # Chat slang adds "-шка"/"-ка" to an acronym or a word ("внжшка" is "ВНЖ").
            candidates = {
                base
                for suffix in folding.SLANG_SUFFIXES
                if term.typo_root.endswith(suffix)
                and len(base := term.typo_root[: -len(suffix)]) >= folding.MIN_SLANG_BASE
                and base in self._idf
            }
        if len(candidates) == 1 and len(term.typo_root) >= SURE_TYPO_ROOT:
            # A long word one edit from one known word alone (or slang for it) is that word,
            # as good as typed right ("рэзедэнт", "поспорт"); a shorter one may be another.
            return [(candidates.pop(), 1.0)]
        return [(candidate, FUZZY_FACTOR) for candidate in sorted(candidates)]

    def _is_common(self, stem: str) -> bool:
        """Held by so many articles ("employer", "работа") that it tells none of them apart."""
        return len(self._postings[stem][0]) > COMMON_SHARE * len(self._ids)

    def _in_one_text_only(self, expanded: list[tuple[str, float]]) -> bool:
        """Held, exactly as typed, by one article alone and only in its text."""
        if len(expanded) != 1 or expanded[0][1] != 1.0:
            return False
        slots, stem_weights = self._postings[expanded[0][0]]
        return len(slots) == 1 and float(stem_weights[0]) < HEADLINE_WEIGHT

    def _names_a_topic(self, term: Term) -> bool:
        """A word naming something the question is about: one few articles hold, or one the
        guide lacks ("dog"); not a typo guess, an action, or a word most articles use."""
        if not term.names_a_topic:
            return False
        if term.stem in self._idf:
            return not self._is_common(term.stem)
        return len(term.stem) >= 3 and not self._expand(term)

    def _same_word_in_headline(
        self, stem: str, root: str, action: bool = False
    ) -> npt.NDArray[np.intp]:
        """Slots of the articles whose title or keywords hold the word itself, not only its
        stem: "maternity" is no title word of an article on "materials"."""
        return np.array(
            sorted(
                {
                    slot
                    for slot, known in self._headline_roots.get(stem, ())
                    if not root or same_word(root, known, action)
                }
            ),
            dtype=np.intp,
        )

    def _place_value(self, stem: str) -> npt.NDArray[np.float64]:
        """One score for every article of the country a place is in, whichever of them happens
        to name it ("startup visa LT"), and for a general one that names the country anywhere."""
        about = np.zeros(len(self._ids), dtype=bool)
        # Every name is worth the country's commonest one: a city no article names ("Вільні")
        # is not rarer evidence than "Літва", only a rarer spelling of the same place.
        idf = self._max_idf
        for country, names in COUNTRY_STEMS.items():
            if stem in names:
                about |= self._in_country[country] | self._general_naming[country]
                idf = min((self._idf[name] for name in names if name in self._idf), default=idf)
        return np.where(about, FIELD_WEIGHTS["keywords"] * idf, 0.0)

    def _in_countries(self, named: set[str]) -> npt.NDArray[np.bool_]:
        found = np.zeros(len(self._ids), dtype=bool)
        for country in named:
            found |= self._in_country[country]
        return found

    def _country_factor(self, named: set[str]) -> npt.NDArray[np.float64]:
        in_named = self._in_countries(named)
        for country in named:
            in_named |= self._general_about[country]
        neutral = self._in_country["by"]
        elsewhere = np.where(neutral, 1.0, OTHER_COUNTRY_PENALTY)
        return np.where(in_named, NAMED_COUNTRY_BOOST, elsewhere)

    def knows(self, text: str) -> bool:
        """Every topic word of `text` is a word of the guide, in full, not just its stem."""
        found = folding.words(text)
        return bool(found) and all(
            folding.root(word) in self._roots or word in self._short_words for word in found
        )

    def search(self, question: str, limit: int = 3) -> list[SearchHit]:
        question = question[:1000]
        terms = query_terms(question)[:30]
        # Only a word the guide does not know may have been typed on the wrong layout.
        if any(not self._expand(term) for term in terms):
            question = folding.respell_yo(keyboard.retype(question, self.knows), self.knows)
            terms = query_terms(question)[:30]
        words = stems(question[:1000])[:30]
        if not terms or not self._ids:
            return []
        asked = [stems(sentence) for sentence in asked_sentences(question[:1000])]
        asked_stems = {stem for sentence in asked for stem in sentence}
        asked_pairs = {pair for sentence in asked for pair in _pairs(sentence)}
        # A country named only in the story around the question ("I live in Vilnius. Got a
        # call-up, what now?") is where the person is, not what they ask about.
        named = countries_named(list(asked_stems) if asked else words)
        lives_in = places_one_is_in(question[:1000])
        topic_stems = list(asked_stems) if asked else words
        if not _HOME_STEMS.isdisjoint(topic_stems) and not countries_named(
            [stem for stem in topic_stems if stem not in lives_in]
        ):
            # "a declaration in Belarus, I live in Poland": Belarus is the topic's place, the
            # country one lives in only where the person is.
            named = set()
        if not named and asked and _HOME_STEMS.isdisjoint(asked_stems):
            # The question names no country: one the story goes to ("moving to Riga with the
            # family. Do they give permits now?"), not one the person is in, is its topic; but
            # beside one it goes to, the one the person is in is as likely ("I live in Vilnius
            # and work for a Polish firm. Where do I pay taxes?").
            going_to = [stem for stem in words if stem in _COUNTRY_OF_STEM]
            if countries_named([stem for stem in going_to if stem not in lives_in]):
                named = countries_named(going_to)
            asked_stems |= {stem for stem in going_to if _COUNTRY_OF_STEM[stem] in named}
        # A country named as the place of the topic ("rent a flat in Vilnius"), not as where
        # the person lives or writes from, and no word of Belarus: the topic is not Belarusian.
        topic_countries = countries_named(
            [stem for stem in (asked_stems or words) if stem not in lives_in]
        )
        abroad = bool(topic_countries) and _HOME_STEMS.isdisjoint(words)
        size = len(self._ids)
        scores = np.zeros(size)
        asked_scores = np.zeros(size)
        # A known two-word name counts towards coverage as one more word, which its
        # (often common) halves alone would not ("ВНЖ по работе").
        phrase_matched = np.zeros(size)
        phrase_possible = 0.0
        asked_phrase_matched = np.zeros(size)  # the same, for the phrases of the question asked
        asked_phrase_possible = 0.0
        for pair in dict.fromkeys(_pairs(words)):
            if pair in self._postings:
                slots, pair_weights = self._postings[pair]
                weight = CONTEXT_WEIGHT if _is_context(pair, asked_pairs) else 1.0
                scores[slots] += pair_weights * self._idf[pair] * weight
                phrase_matched[slots] += self._idf[pair]
                phrase_possible += self._idf[pair]
                if pair in asked_pairs:
                    asked_scores[slots] += pair_weights * self._idf[pair]
                    asked_phrase_matched[slots] += self._idf[pair]
                    asked_phrase_possible += self._idf[pair]
        # A country's name is not a topic ("coworkings in Tbilisi"), except for a country card
        # when the question names nothing else.
        place_names = _PLACE_STEMS.union(_ABROAD_STEMS).intersection(term.stem for term in terms)
        if len(place_names) == len(terms):
            place_names = frozenset()
        possible = np.zeros((len(terms), size))
        matched = np.zeros((len(terms), size))
        exact_words = np.zeros(size)
        specific_words = np.zeros(size)
        unheld = np.zeros(size, dtype=np.int64)
        place_scores = np.zeros(size)
        in_headline = np.zeros(size, dtype=bool)
        any_headline = np.zeros(size, dtype=bool)
        named_articles = self._in_countries(named)
        named_cards = self._is_card & named_articles
        lacks_topic = False
        missing: set[str] = set()  # topic words no article holds, even misspelt
        passing: set[str] = set()  # topic words one article's text names only in passing
        for row, term in enumerate(terms):
            expanded = self._expand(term)
            is_topic = term.stem not in place_names
            # A place's name counts towards coverage only for a country card; home ("Belarus")
            # is named by every article, so it counts for nothing.
            is_home = not is_topic and term.stem in _HOME_STEMS | _ABROAD_STEMS
            counts = 1.0 if is_topic else self._is_card * (not is_home)
            unknown = UNKNOWN_WEIGHT if term.typo_root and term.names_a_topic else 1.0
            # A short word ("film") names a topic too, though too short to guess its typos.
            if is_topic and term.names_a_topic and not expanded and len(term.stem) >= 4:
                lacks_topic = True
                missing.add(term.stem)
            elif is_topic and term.names_a_topic and self._in_one_text_only(expanded):
                # "mortgage" of one article's text ("a sale or mortgage of real estate"): the
                # guide holds no article on it, though it is not quite missing.
                passing.add(term.stem)
            possible[row] = counts * max(
                (self._idf[c] for c, _ in expanded), default=unknown * self._max_idf
            )
            best_value = np.zeros(size)
            best_share = np.zeros(size)
            for candidate, factor in expanded:
                idf = self._idf[candidate]
                slots, stem_weights = self._postings[candidate]
                values = stem_weights * (factor * idf)
                better = values > best_value[slots]
                best_value[slots[better]] = values[better]
                best_share[slots[better]] = idf * factor
                if is_topic and factor == 1.0:
                    headline = self._same_word_in_headline(
                        candidate, term.root, not term.names_a_topic
                    )
                    any_headline[headline] = True
                    if len(slots) > DISTINCTIVE_ARTICLES:
                        in_named = headline[named_articles[headline]]
                        if len(in_named) > DISTINCTIVE_IN_COUNTRY:
                            in_named = in_named[named_cards[in_named]]
                        headline = np.union1d(headline[named_cards[headline]], in_named)
                    in_headline[headline] = True
            if is_topic:
                scores += best_value * (
                    CONTEXT_WEIGHT if _is_context(term.stem, asked_stems) else 1.0
                )
                if term.stem in asked_stems:
                    asked_scores += best_value
            else:
                place_scores = np.maximum(place_scores, self._place_value(term.stem))
            matched[row] = counts * best_share
            if is_topic and not _is_context(term.stem, asked_stems) and self._names_a_topic(term):
                unheld[best_value == 0] += 1
            if is_topic and expanded and expanded[0][1] == 1.0:
                exact_words[best_value > 0] += 1
                # Within the country asked about, few articles are left to tell apart.
                held = best_value > 0
                common = self._is_common(expanded[0][0])
                specific_words[held if not common else held & named_cards] += 1
        weighting = self._country_factor(named) if named else np.ones(size)
        if not named and not _HOME_STEMS.isdisjoint(set(topic_stems) - lives_in):
            # "a declaration in Belarus", not "IT people from Belarus": an article about another
            # country's "declaration" (Poland's work declaration) is not about it.
            weighting = np.where(self._country_specific, OTHER_COUNTRY_PENALTY, weighting)
        # Not about the country of the topic; the one the person is in ("я ў Варшаве") is none.
        elsewhere = (
            self._country_factor(topic_countries) < NAMED_COUNTRY_BOOST
            if topic_countries
            else np.zeros(size, dtype=bool)
        )
        if abroad:
            # "rent a flat in Vilnius": selling a flat in Belarus is not about it.
            silent = self._in_country["by"].copy()
            for country in topic_countries:
                silent &= ~self._general_naming[country]
            weighting = np.where(silent, weighting * SILENT_GENERAL_WEIGHT, weighting)
        # A country outside the guide that the person lives in ("passport expired, I live in
        # Germany") is not what they ask about, and in a long message only the question counts.
        foreign = FOREIGN_STEMS.intersection(asked_stems or words) - lives_in
        if foreign and not named:
            # "ВНЖ в Португалии": no article about Poland or Georgia can answer it.
            weighting = np.where(self._country_specific, 0.0, weighting)
        for stem in foreign:
            # An article not about the country asked about (in its title or keywords) cannot
            # be the answer, even if its text names that country in passing.
            mentions = np.full(size, FOREIGN_PENALTY)
            if stem in self._postings:
                slots, stem_weights = self._postings[stem]
                mentions[slots[stem_weights >= HEADLINE_WEIGHT]] = 1.0
            weighting *= mentions
        scores = (scores + place_scores) * weighting
        place_scores *= weighting
        asked_scores *= weighting
        topic_rows = [row for row, term in enumerate(terms) if term.stem not in place_names]
        coverage = _best_coverage(
            np.vstack((matched, phrase_matched)),
            np.vstack((possible, np.full(size, phrase_possible))),
            topic_rows,
        )
        one_sentence = len(_SENTENCE_END.split(question[:1000].strip())) == 1
        unanswered = missing | passing
        qualifier = qualifying_stems(question[:1000]) if unanswered and one_sentence else set()
        if unanswered - qualifier and qualifier:
            # "a mortgage for a foreigner with a karta pobytu": what the guide lacks is asked
            # about; what the person has ("with a karta pobytu") covers none of it.
            rows = [row for row in topic_rows if terms[row].stem not in qualifier]
            asked_about = matched[rows].sum(axis=0) / np.maximum(possible[rows].sum(axis=0), 1e-9)
            coverage = np.minimum(coverage, asked_about)
        # The question asked is covered as well as the whole message: the story around it
        # ("we'd like to live there, my wife has family in Riga") adds words, not doubt.
        asked_rows = [row for row, term in enumerate(terms) if term.stem in asked_stems]
        if asked_rows:
            asked_matched = matched[asked_rows].sum(axis=0) + asked_phrase_matched
            asked_possible = possible[asked_rows].sum(axis=0) + asked_phrase_possible
            asked_coverage = asked_matched / np.maximum(asked_possible, 1e-9)
            coverage = np.maximum(coverage, asked_coverage)
        found = np.flatnonzero(scores > 0)
        if found.size > limit:
            # The `limit` best; ties break by id, which is slot order (ids are sorted).
            threshold = np.partition(scores[found], found.size - limit)[found.size - limit]
            found = found[scores[found] >= threshold]
            found = found[np.lexsort((found, -scores[found]))[:limit]]
        hits = [
            SearchHit(
                self._ids[slot],
                float(scores[slot]),
                float(coverage[slot]),
                int(exact_words[slot]),
                bool(in_headline[slot]),
                float(place_scores[slot]),
                bool(any_headline[slot]),
                lacks_topic,
                bool(elsewhere[slot]),
                int(unheld[slot]),
                int(specific_words[slot]),
                float(asked_scores[slot]),
                bool(asked),
            )
            for slot in found
        ]
        # On a tie the article on the topic goes before the country's card, which is only
        # the answer when nothing narrower is, and then the one whose title it fills most.
        asked_for = {term.stem for term in terms}
        hits.sort(
            key=lambda hit: (
                -hit.score,
                hit.article_id.endswith(CARD_SUFFIX),
                -self._title_share(hit.article_id, asked_for),
                hit.article_id,
            )
        )
        return hits[:limit]

    def _title_share(self, article_id: str, asked_for: set[str]) -> float:
        """The largest share of one of the article's titles that the question's words fill."""
        titles = [set(title.split()) for title in self._title_stems[article_id].split("|")]
        return max((len(title & asked_for) / len(title) for title in titles if title), default=0.0)


_COUNTRY_OF_STEM = {stem: country for country, names in COUNTRY_STEMS.items() for stem in names}


# In a message of several sentences, the story around the question ("I live in Gdańsk on a
# karta pobytu.") weighs less than the question itself ("How do I get NFZ insurance?").
CONTEXT_WEIGHT = 0.67
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


# Words that open a question, for messages typed without "?" ("Living in Gdańsk. How do I
# get NFZ insurance."), and particles that ask wherever they stand ("можно ли"), folded.
_QUESTION_OPENERS = frozenset(
    folding.fold(
        "how what where when which who why can could is are do does should whether "
        "как что где когда куда какой какая какие кто почему зачем можно ли нужно сколько "
        "як што дзе калі куды які якая якія хто чаму навошта ці можна трэба колькі"
    ).split()
)
_INLINE_ASKING = frozenset(folding.fold("ли ці").split())


def asked_sentences(text: str) -> list[str]:
    """The sentences that ask, when others tell the story: those with "?", or, when no "?" is
    typed, those opening with a question word or holding "ли"/"ці"."""
    sentences = _SENTENCE_END.split(text.strip())
    if len(sentences) < 2:
        return []
    marked = [sentence for sentence in sentences if "?" in sentence]
    return marked or [sentence for sentence in sentences if _opens_question(sentence)]


def _opens_question(sentence: str) -> bool:
    words = folding.fold(sentence).split()
    return bool(words) and (words[0] in _QUESTION_OPENERS or not _INLINE_ASKING.isdisjoint(words))


# After these (and "in"), a place is where the person is: "I live in", "I'm in", "я ў",
# "working in", "while in".
_BEING_THERE = frozenset(
    folding.fold(
        "live lives living based staying живу живём живёт жыву жывём жыве жывуць проживаю "
        "I'm im я work working works работаю працую while abroad"
    ).split()
)
# Before a place, these say the person is there or comes from there ("from Serbia", "з Літвы").
_FROM = frozenset(folding.fold("from из с з са").split())
_IN = frozenset(folding.fold("in в ў у во").split())
# "с"/"з" with a place in the instrumental case is "with", not "from" ("мяжа з Грузіяй").
_INSTRUMENTAL = re.compile("(?:oi|ei|ai)$")


def places_one_is_in(text: str) -> set[str]:
    """Stems of the places one lives in ("I live in Germany") or writes from ("from Serbia")."""
    typed = folding.fold(text).split()
    found = set()
    for i, word in enumerate(typed):
        if word in _FROM:
            place = typed[i + 1 : i + 2]
            if not (place and _INSTRUMENTAL.search(place[0])):
                found.update(stems(" ".join(place)))
        elif word in _BEING_THERE:
            after = typed[i + 1 : i + 3]
            place = after[1:] if after[:1] and after[0] in _IN else after[:1]
            found.update(stems(" ".join(place)))
    return found


_WITH = frozenset(folding.fold("с з са со with").split())
QUALIFIER_WORDS = 4


def qualifying_stems(text: str) -> set[str]:
    """Stems of what the person says they have ("with a residence permit", "з картай побыту")."""
    typed = folding.fold(text).split()
    return {
        stem
        for i, word in enumerate(typed)
        # "с 2026" is "since", not "with"
        if word in _WITH and i + 1 < len(typed) and not typed[i + 1].isdigit()
        for stem in stems(" ".join(typed[i + 1 : i + 1 + QUALIFIER_WORDS]))
    }


def _is_context(key: str, asked: set[str]) -> bool:
    return bool(asked) and key not in asked


def _pairs(words: list[str]) -> list[str]:
    """Neighbouring words as phrases, whatever their order, a place as its country, no home.

    Word order is free in Belarusian and Russian ("ВНЖ Литва" is "ВНЖ в ЛТ"), and "visa for
    Belarusians in Serbia" holds the phrase "visa ... Serbia".
    """
    named = [_COUNTRY_OF_STEM.get(word, word) for word in words if word not in _HOME_STEMS]
    return ["+".join(sorted(pair)) for pair in itertools.pairwise(named)]


def _swaps(word: str) -> set[str]:
    """A word of FUZZY_MIN_ROOT - 1 letters with two neighbours past the first swapped."""
    if len(word) != FUZZY_MIN_ROOT - 1 or word.isdigit():
        return set()
    return {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(1, len(word) - 1)}


def _deletions(stem: str) -> set[str]:
    return {stem[:i] + stem[i + 1 :] for i in range(len(stem))}


@dataclass(frozen=True)
class Answer:
    """What to tell the person: one article, a few candidates, or nothing."""

    article_id: str | None
    candidates: tuple[str, ...]


MIN_SCORE = 4.0
MIN_COVERAGE = 0.35
CLEAR_LEAD = 1.25
# A single answer covers this share of the question; a weaker top hit is one of the choices.
STRONG_COVERAGE = 0.45
# A hit scoring under this share of the best one is never offered, even when the best one
# fails the evidence or coverage test: the weaker hit is not a better answer, just a survivor.
MIN_SHARE_OF_BEST = 0.5


def _topic_score(hit: SearchHit) -> float:
    # Naming a country is not asking about anything, except of its card.
    return hit.score - (0.0 if hit.article_id.endswith(CARD_SUFFIX) else hit.place_score)


def _is_confident(hit: SearchHit) -> bool:
    return _topic_score(hit) >= MIN_SCORE and hit.coverage >= MIN_COVERAGE and hit.has_evidence


def _is_near_miss(hit: SearchHit) -> bool:
    """On the topic, and failing only one of the coverage and evidence tests."""
    return _topic_score(hit) >= MIN_SCORE and (hit.coverage >= MIN_COVERAGE or hit.has_evidence)


def confident_hits(index: SearchIndex, question: str, limit: int = 3) -> list[SearchHit]:
    """Hits above the confidence threshold and near the best hit, best first."""
    return _confident(index.search(question, limit=limit + 2))[:limit]


def _confident(ranked: list[SearchHit]) -> list[SearchHit]:
    if not ranked:
        return []
    floor = MIN_SHARE_OF_BEST * ranked[0].score
    return [hit for hit in ranked if _is_confident(hit) and hit.score >= floor]


# When nothing is confident, a hit that clearly leads, owes its score to the topic, matches a
# word of its title or keywords, is about the country named if any, and covers MIN_COVERAGE of
# a question that names no topic the guide lacks is offered as the one choice (never an
# answer): "гуманитарку в ПЛ еще дают?". A word of its title few articles hold ("стартап")
# lets it cover less; a common one ("страховая" of a car crash) does not.
WEAK_CHOICE_COVERAGE = 0.25


def _is_card_asked_about(hit: SearchHit) -> bool:
    """The card of the country named, covering half the question: what there is to know of
    moving there ("можно ли белорусу переехать в Латвию") is its card, whatever the words."""
    return (
        hit.article_id.endswith(CARD_SUFFIX)
        and hit.place_score > 0
        and hit.coverage >= LONE_WORD_COVERAGE
    )


# Articles of the country named whose titles hold a word few articles hold: one alone may be
# a coincidence (see `lone_word_suffices`), this many agreeing are offered as the choices
# ("srbija boravak preduzetnik": both Serbian articles have "boravak" in their titles).
MIN_TITLED_IN_COUNTRY = 2


def _titled_in_country(ranked: list[SearchHit]) -> tuple[str, ...]:
    """The choices when several articles of the country named hold a distinctive title word
    of the question, or none."""
    floor = MIN_SHARE_OF_BEST * ranked[0].score if ranked else 0.0
    titled = [
        hit.article_id
        for hit in ranked
        if hit.score >= floor
        and _topic_score(hit) >= MIN_SCORE
        and hit.in_headline
        and hit.place_score > 0
        and not hit.lacks_topic
        and not hit.elsewhere
    ]
    return tuple(titled[:3]) if len(titled) >= MIN_TITLED_IN_COUNTRY else ()


def _is_weak_choice(ranked: list[SearchHit]) -> bool:
    best = ranked[0]
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    return (
        _topic_score(best) >= MIN_SCORE
        and (best.named_in_headline or _is_card_asked_about(best))
        and not best.lacks_topic
        and not best.elsewhere
        and best.coverage >= (WEAK_CHOICE_COVERAGE if best.in_headline else MIN_COVERAGE)
        and best.lone_word_suffices
        and best.score >= CLEAR_LEAD * runner_up
    )


# A rival owing this share of its score to the sentences that ask is what they point to.
ASKED_SHARE = 1 / 3
# A first choice owing less than this share (but some) of its score to the sentences that ask
# owes its place to the story; none at all means the question only points back at it ("can I
# still renew it?").
STORY_SHARE = 0.15


def _asked_points_elsewhere(ranked: list[SearchHit]) -> bool:
    """In a message with a story, a close rival beats the best hit on the question asked:
    the best owes its lead to the story ("on a karta pobytu... how do I check my insurance")."""
    best = ranked[0]
    return any(
        rival.asked_score > best.asked_score
        and rival.score >= MIN_SHARE_OF_BEST * best.score
        and rival.asked_score >= ASKED_SHARE * _topic_score(rival)
        for rival in ranked[1:3]
    )


def _owes_to_the_question(hit: SearchHit) -> bool:
    return hit.asked_score >= ASKED_SHARE * _topic_score(hit)


def _asked_about(choices: list[SearchHit]) -> SearchHit | None:
    """Among the choices for a message with a story, the one the sentences that ask are about,
    when the first owes its place to the story ("живу в Гданьске на карте побыту...")."""
    first = choices[0] if choices else None
    if first is None or not 0 < first.asked_score < STORY_SHARE * _topic_score(first):
        return None
    rivals = [
        hit
        for hit in choices[1:]
        if hit.asked_score > choices[0].asked_score and _owes_to_the_question(hit)
    ]
    return max(rivals, key=lambda hit: hit.asked_score, default=None)


def _lacks_the_topic(best: SearchHit) -> bool:
    """The question names a topic the guide lacks ("крипта", "каско") and even the best hit
    covers too little of it: the hits that pass are about its other, generic words."""
    return best.lacks_topic and best.coverage < MIN_COVERAGE


def answer_question(index: SearchIndex, question: str) -> Answer:
    """One article when it clearly leads every other hit, a few choices, or nothing."""
    ranked = index.search(question, limit=5)
    hits = _confident(ranked)[:3]
    # In a message with a story, a word the guide lacks may be the story's ("landlord").
    if hits and _lacks_the_topic(ranked[0]) and not asked_sentences(question):
        return Answer(None, ())
    if not hits:
        if ranked and _is_weak_choice(ranked):
            return Answer(None, (ranked[0].article_id,))
        return Answer(None, _titled_in_country(ranked))
    # Beaten by, or not clearly ahead of, any other hit (even one that failed the tests, as
    # "TRP" of Lithuania next to "preduzetnik" of Serbia), it is only one of the choices.
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    clear = ranked[0] is hits[0] and hits[0].score >= CLEAR_LEAD * runner_up
    if clear and hits[0].coverage >= STRONG_COVERAGE and not _asked_points_elsewhere(ranked):
        return Answer(hits[0].article_id, ())
    # Something fits, so near hits that failed a test are offered after it: one may be the
    # article meant, and the question is answered either way.
    floor = MIN_SHARE_OF_BEST * ranked[0].score
    near = [hit for hit in ranked if hit not in hits and hit.score >= floor and _is_near_miss(hit)]
    choices = [*hits, *near][:3]
    asked_about = _asked_about(choices)
    if asked_about is not None:
        choices.remove(asked_about)
        choices.insert(0, asked_about)
    return Answer(None, tuple(hit.article_id for hit in choices))
