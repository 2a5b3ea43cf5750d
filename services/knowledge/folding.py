"""One spelling for every way a word is typed: scripts, Łacinka, taraškevica, inflections.

Questions arrive in Belarusian, Russian, English or a mix, in Cyrillic, Łacinka or transliterated,
so text is folded to one Latin spelling and words are cut to a short stem (which absorbs most
inflection). Articles and questions go through the same folding, so it need only be consistent.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

STEM = 5
# Г, Ґ, Х, Łacinka h and transliterated g are one letter: "Hruzija", "Грузія" and "Gruziya" meet.
_CYRILLIC = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "h",
    "ґ": "h",
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
    # Łacinka (and Polish ż) letters whose accent is a different letter, not a decoration.
    "č": "ch",
    "š": "sh",
    "ž": "zh",
    "ż": "zh",
}
_CYRILLIC_TABLE = str.maketrans(_CYRILLIC)
_LATIN_FOLD = str.maketrans(
    {"ł": "l", "w": "v", "x": "ks", "q": "k", "j": "i", "y": "i", "g": "h"}
)
# Polish digraphs and transliteration ("kh", "shch"); Łacinka "ie" after a consonant is
# Cyrillic "е" ("Litvie", "biez"); Łacinka marks a soft л by "l" against "ł", with no "i" after
# it, so "ля" and "лю" are "la" and "lu" ("Palaka" is "Паляка").
# Each with two letters every match holds: most words hold none, and a substring test is cheaper
# than a search.
_SPELLING_FOLDS = (
    ("sz", re.compile(r"sz"), "sh"),
    ("cz", re.compile(r"cz"), "ch"),
    ("kh", re.compile(r"kh"), "h"),
    ("sh", re.compile(r"shch"), "sch"),
    ("li", re.compile(r"(?<=l)i(?=[aeou])"), ""),
)
_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")
_IT = re.compile(r"\b(?:IT|ІТ|ИТ|АЙТИ|айти|айці)\b")
# "1%" and "1 процент" are one term ("1pct"): the rate is what tells a 1% regime from a 12% one.
_PERCENT = re.compile(
    r"(\d+)(?:[.,](\d+))?\s*(?:%|(?:процент|працэнт|pracent|percent)\w*)", re.IGNORECASE
)


# Łacinka writes an iotated vowel as "j" + vowel where Cyrillic has one letter: "je" at a word's
# start or after a vowel or "ŭ" is "е" ("jechać" is "ехаць", "ŭjezd" is "ўезд"), "ji" after a
# consonant is "'і" ("siamji" is "сям'і"). Russian transliteration writes "ц" as "ts" ("granitsa").
# In a word with Łacinka or Polish letters, "ch" is "х" ("chata", "jechać"), not "ч" (č, cz).
_LACINKA_WORD = re.compile(r"\w*[ćśźńłčšžŭ]\w*")
_LATIN_SPELLINGS = (
    ("je", re.compile(r"(?<![^\W\daeiouyŭ])je"), "e"),
    ("ji", re.compile(r"(?<=[bcdfghklmnprstvzśźćńłšžč])ji"), "i"),
    ("ts", re.compile(r"ts"), "c"),
    # Before Cyrillic is folded: "выезд" (exit) is "vyezd", not "въезд" (entry).
    ("ie", re.compile(r"(?<=[bcdfghklmnprstvwzxqćśźńłčšžż])ie"), "e"),
)


# Łacinka writes "ё" as "io" after a consonant and "jo" elsewhere ("dzion" is "дзён"). English
# has "io" too ("pension"), so this spelling is tried only on words the guide does not know.
_LACINKA_YO = re.compile(r"(?<=[bcdfghklmnprstvzćśźńłčšž])io|(?<![^\W\daeiouyŭ])jo", re.IGNORECASE)
_LATIN_TOKEN = re.compile(r"(?<!\w)[^\W\d_]+(?!\w)")


def respell_yo(text: str, is_known: Callable[[str], bool]) -> str:
    """`text` with each word `is_known` rejects, but knows with Łacinka's "io"/"jo" read as "ё",
    so respelt."""

    def respelt(match: re.Match[str]) -> str:
        word = match[0]
        if not _LACINKA_YO.search(word) or is_known(word):
            return word
        candidate = _LACINKA_YO.sub("e", word)
        return candidate if is_known(candidate) else word

    return _LATIN_TOKEN.sub(respelt, text)


def fold(text: str) -> str:
    """Lowercase; one Latin spelling for Cyrillic, Łacinka and Polish; no accents, no marks."""
    # "IT" is the topic of half the guide, but lowercase "it" is an English stopword.
    text = _IT.sub(" infotech ", text)
    text = _PERCENT.sub(
        lambda rate: f" {rate[1]}p{rate[2]}pct " if rate[2] else f" {rate[1]}pct ", text
    )
    text = text.casefold()
    text = _LACINKA_WORD.sub(lambda word: word[0].replace("ch", "h"), text)
    for letters, pattern, replacement in _LATIN_SPELLINGS:
        if letters in text:
            text = pattern.sub(replacement, text)
    text = text.translate(_CYRILLIC_TABLE)
    if not text.isascii():  # accents off; plain ASCII has none (most questions, once folded)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(char for char in text if not unicodedata.combining(char))
    text = text.translate(_LATIN_FOLD)
    text = _NOT_ALPHANUMERIC.sub(" ", text)
    for letters, pattern, replacement in _SPELLING_FOLDS:
        if letters in text:
            text = pattern.sub(replacement, text)
    return text


# Words that say nothing about the topic, in each language as people type them.
_STOPWORD_TEXT = """
    the and for how what can does with from are is to in of my me do an or it on at be if about
    there now get need you should will which who any this that we our your they them was were
    have has had did would could shall may might must been being into over after before since
    until while as so than then here just still also too very really some much many more most
    other when where why whom whose not no yes hey please anyone someone know got im ive ve ll
    re don doesn isn their these those he she his her its us am thing things
    kak chto eto dlia mne li ili pri est iak shto gety dlya na po ne da no so za ot ad iz ci tak
    uzhe mozhno mozhna nado treba kakie iakiia seichas zaraz kto khto ia ty on ona oni mi vi my
    vy nam nas vam vas mnoi mene menia mianie sebia ego ee ikh iago ikh ikhni moi moia moe nash
    nasha vash teper ciaper togo tago posle paslia esli kali kogda tozhe taksama eshche
    iashche ochen vel mi vse usie vsio usio ves chem chim gde dze kuda kudy tam tut vot zhe bi
    by bil bila
    bilo bili budu budet budze bio bila slishal chuli slishali skazhite padkazhyce podskazhite
    pozhaluista kali laska privet pryvitanne hi hello thanks dziakui spasibo skolko kolki chtoby
    kab shchob en iana iany iano ion uzho uzh use dla hto ih while kakoi kakaia kakoe kakikh
    па пра як што ці дзе куды калі колькі які якая якое якія якіх гэта гэты гэтая тое той мне
    мяне мой мая маё мае нам нас вам вас яго яе іх ён яна яны мы вы ты ужо ўжо яшчэ вельмі
    толькі таксама трэба можна цяпер зараз дык бо але або ды ад да для каб ласка дзякуй
    прывітанне усім ўсім таму што-небудзь нешта штосьці неяк
    по про как что чем где куда когда сколько какой какая какое какие каких это этот эта то
    тот мне меня мой моя моё мои нам нас вам вас его её их он она они мы вы ты уже еще ещё
    очень только тоже также надо нужно можно теперь сейчас так бы ли же вот но или да нет не
    на со из от до для за при чтобы если есть был была было были будет быть всё все всем
    весь себя свой своё свою своей здравствуйте привет подскажите пожалуйста спасибо
    что-то как-то какой-то где-то почему зачем потому вообще просто
    какую какого каком якую якога якой якім якому без
    хочу хочет знаю ничего чё чо может могут
    хачу хоча ведаю нічога наогул чуў чула можа могуць маю паводле перад пакуль кожны аб
    са жа вось нават патрэбна патрэбны замест вместо instead
    think because looking quick whats ill else want wants wont anything something maybe
    actually
    этой этого этим этом этих эти этому гэтай гэтага гэтым гэтых гэтыя гэтаму гэтую
    насколько наколькі тысяч тысячи тысяча тысячы тысячу thousand
    полгода полугода паўгода паўгоду полтора паўтара
    """
_STOPWORDS = frozenset(fold(_STOPWORD_TEXT).split())

# Inflectional endings of Russian and Belarusian nouns and adjectives, longest first once folded.
_ENDING_TEXT = (
    "ями ами ах ях ого его ому ему ими ыми ых их ая яя ое ее ой ей ом ем ам ям ов ев я ю ие а у "
    "і и е о ы"
)
_ENDINGS = frozenset(fold(_ENDING_TEXT).split())
_ENDING_LENGTHS = sorted({len(ending) for ending in _ENDINGS}, reverse=True)
MIN_ROOT = 3


def root(word: str) -> str:
    """The word without its longest inflectional ending (keeping at least MIN_ROOT letters)."""
    if not word.isdigit():
        for length in _ENDING_LENGTHS:
            if len(word) - length >= MIN_ROOT and word[-length:] in _ENDINGS:
                return word[:-length]
    return word


def stem(word: str) -> str:
    """The root cut to STEM letters: what the index and a question are matched on."""
    return root(word)[:STEM]


# Any form of a longer stop-word is one too: "нужна" and "нужны" as well as "нужно".
MIN_STOPWORD_ROOT = 4
_STOPWORD_ROOTS = frozenset(
    root(word) for word in _STOPWORDS if len(root(word)) >= MIN_STOPWORD_ROOT
)

# "Get" is a stop-word; its Belarusian and Russian forms (атрымаць, получу...) were evidence
# for any article that uses them, so every form is one too.
_EMPTY_VERB_STEMS = frozenset(
    word[:STEM] for word in fold("атрымаць атрымліваць получить получать").split()
)


# Endings of verbs (infinitive, past, present; English -ing/-ed), folded: a word the guide
# lacks that ends so is an action ("зачынілі", "moving"), not a topic it lacks. A noun may
# share one ("бабулі" ends as "чулі"): it then weighs as a rare word, as before.
_VERB_ENDING = re.compile(
    "(?:[aeiu]t|[aeiu]c|[aeiu]l[aio]|shl[aio]|shel|[aeiu]sh|[aeiu]te|[iu]ut|[iu]uc"
    "|tsia|cia|cca|inh|ed|iti)$"
)


def looks_like_a_verb(word: str) -> bool:
    """A folded word whose ending is a verb's."""
    return _VERB_ENDING.search(word) is not None


def is_stopword(word: str) -> bool:
    """A folded word (or a form of one) that says nothing about the topic."""
    if word in _STOPWORDS:
        return True
    word_root = root(word)
    return word_root in _STOPWORD_ROOTS or word_root[:STEM] in _EMPTY_VERB_STEMS


# Chat shorthand, as the words the guide uses for it ("зп" is a salary). Matched on the folded
# word or its root, so inflected forms ("гуманитарку") count too.
_SHORTHAND_TEXT = {
    "зп zp зарплатка": "зарплата",
    "hum гуманитарка гуманітарка": "humanitarian",
    "res": "residence",
    "trc": "trp",  # a temporary residence card or permit: the guide writes both
    # The guide writes both "ВНЖ" and "вид на жительство" ("гуманитарный ВНЖ" is a keyword):
    # one spelling, so that either phrase finds the other.
    "внж vnzh": "вид жительство",
    # "КП" is Karta Polaka in the guide and karta pobytu as often in the chats: a Polish
    # card, and the rest of the question says which.
    "кп kp": "карта польша",
    "доки дакі": "документы",
    # Chat's shorthand for the guide's own names: the EU Blue Card, a humanitarian visa, a
    # driving licence ("водительское удостоверение"), EU long-term resident status.
    "бк bk": "blue card",
    "гумвиза гумвіза humviza": "humanitarian виза",
    "ву": "водительские права",
    "ltr": "long-term resident",
    "загран загранник загранпаспорт": "паспорт",
    "ипшник ипэшник іпэшнік": "ИП",
}
_SHORTHAND = {
    form: fold(meaning).split()
    for shorts, meaning in _SHORTHAND_TEXT.items()
    for short in fold(shorts).split()
    for form in (short, root(short))
}


# Chat's diminutive endings, folded, once the inflection is cut ("внжшка" is "ВНЖ").
SLANG_SUFFIXES = ("shk", "chk", "k")
MIN_SLANG_BASE = 3


def _spelled_out(word: str) -> list[str]:
    word_root = root(word)
    bases = (
        word_root[: -len(suffix)]
        for suffix in SLANG_SUFFIXES
        if word_root.endswith(suffix) and len(word_root) - len(suffix) >= MIN_SLANG_BASE
    )
    for form in (word, word_root, *bases):
        if form in _SHORTHAND:
            return _SHORTHAND[form]
    return [word]


def words(text: str) -> list[str]:
    """The folded words that may carry a topic: no stop-words, no short numbers."""
    return [
        word
        for typed in fold(text).split()
        for word in _spelled_out(typed)
        if (len(word) >= 2 and not word.isdigit() and not is_stopword(word))
        or (word.isdigit() and len(word) >= 3)
    ]


def stems(text: str) -> list[str]:
    """The stems of the text's topic words, in order."""
    return [stem(word) for word in words(text)]
