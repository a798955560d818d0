"""Text analysis for keyword search: one analyser for the index and the query, every language.

A customer writes "كم سعر طاولة Liwa؟" or "Сколько стоит доставка в Шарджу?" about a knowledge
base that may be in English, Arabic or Russian. Each token is folded and stemmed by its own script
(Latin → English stemmer, Arabic, Cyrillic → Russian, Greek, Devanagari → Hindi), so a Latin SKU or
product name inside an Arabic question matches the catalog exactly as an English one would, and an
inflected Arabic or Russian word matches the other forms of the same word. Codes (DO-ARM-2048) and
numbers (2,500) are kept whole, with their parts as well, so either can be typed.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_RUSSIAN

#: A text to the terms BM25 counts. Index and query must go through the same one.
Analyser = Callable[[str], list[str]]

_ARABIC_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed\u0640]")
_ARABIC_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ک": "ك", "ی": "ي"})
#: Arabic-Indic (U+0660…) and Persian (U+06F0…) digits: customers type either.
_DIGITS = str.maketrans(
    {**{chr(0x0660 + i): str(i) for i in range(10)}, **{chr(0x06F0 + i): str(i) for i in range(10)}}
)
_ARABIC_BLOCK = re.compile("[\u0600-\u06ff]")
_ARABIC_SEPARATORS = str.maketrans({"٫": ".", "٬": ",", "،": ",", "؟": "?", "؛": ";"})

#: Letters and digits, and the combining marks Indic scripts write vowels with (\w alone splits them).
_WORD = r"[\w\u0900-\u0963\u0966-\u0dff]+"
#: A code or number: word runs joined by - _ / . , with at least one digit somewhere ("DO-ARM-2048", "2,500").
_TOKEN = re.compile(rf"(?:{_WORD})(?:[-_/.,](?:{_WORD}))*")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_JOINERS = re.compile(r"[-_/.,]")
#: Combining accents on a Latin or Greek letter (after NFD), not on a Cyrillic one.
_LATIN_GREEK_ACCENTS = re.compile(r"(?<=[A-Za-z\u0370-\u03ff])[\u0300-\u036f]+")

#: A few very common Arabic function words (bm25s ships no Arabic list).
_STOPWORDS_AR = (
    "في",
    "من",
    "إلى",
    "على",
    "عن",
    "مع",
    "هل",
    "ما",
    "ماذا",
    "كم",
    "هو",
    "هي",
    "هذا",
    "هذه",
    "ذلك",
    "تلك",
    "أن",
    "أو",
    "و",
    "يا",
    "لا",
    "لم",
    "لن",
    "قد",
    "كان",
    "التي",
    "الذي",
    "أنا",
    "أنت",
    "نحن",
)

#: Which snowball stemmer a token gets, by the script of its first letter.
_SCRIPT_STEMMERS = {
    "LATIN": "english",
    "ARABIC": "arabic",
    "CYRILLIC": "russian",
    "GREEK": "greek",
    "DEVANAGARI": "hindi",
}


def normalise(text: str) -> str:
    """Fold the spellings that mean the same: compatibility forms, Arabic letter variants,
    diacritics and tatweel, Arabic-Indic digits, ё, Latin accents; casefolded."""
    text = unicodedata.normalize("NFKC", text)
    if _ARABIC_BLOCK.search(text):  # str.translate is slow enough to skip on the other scripts
        text = text.translate(_DIGITS).translate(_ARABIC_SEPARATORS)
        text = _ARABIC_DIACRITICS.sub("", text).translate(_ARABIC_LETTERS)
    text = text.casefold().replace("ё", "е")
    return _strip_latin_accents(text)


def _strip_latin_accents(text: str) -> str:
    # Only Latin and Greek accents: й and ё are letters of their own in Russian, not accented ones.
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", _LATIN_GREEK_ACCENTS.sub("", decomposed))


@lru_cache(maxsize=4096)
def _script(char: str) -> str:
    if char.isascii():
        return "LATIN"
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else ""


#: Stopwords compared after normalisation, so they are normalised too ("إلى" is "الي").
_STOPWORDS = frozenset(normalise(w) for w in (*STOPWORDS_EN, *STOPWORDS_RUSSIAN, *_STOPWORDS_AR))


def is_stopword(normalised_word: str) -> bool:
    """Whether a word (already `normalise`d) is a function word of English, Russian or Arabic."""
    return normalised_word in _STOPWORDS


_local = threading.local()


def _stemmer(algorithm: str) -> Stemmer.Stemmer:
    # PyStemmer objects are not thread-safe; one set per thread, each with its own word cache.
    stemmers: dict[str, Stemmer.Stemmer] = _local.__dict__.setdefault("stemmers", {})
    if algorithm not in stemmers:
        stemmers[algorithm] = Stemmer.Stemmer(algorithm)
    return stemmers[algorithm]


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    # Short words are mostly abbreviations and currencies (AED, USD, kg), which a stemmer mangles.
    if len(word) <= 3 or any(c.isdigit() for c in word):
        return word
    algorithm = _SCRIPT_STEMMERS.get(_script(word[0]))
    return _stemmer(algorithm).stemWord(word) if algorithm else word


def _cjk_terms(run: str) -> list[str]:
    # Chinese and Japanese are written without spaces: overlapping character pairs stand for words.
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def _word_terms(word: str) -> list[str]:
    terms: list[str] = []
    start = 0
    for match in _CJK.finditer(word):
        if match.start() > start:
            terms.append(word[start : match.start()])
        terms.extend(_cjk_terms(match.group()))
        start = match.end()
    if start < len(word):
        terms.append(word[start:])
    return [t if _CJK.fullmatch(t) else _stem(t) for t in terms if t not in _STOPWORDS]


def _code_terms(token: str) -> list[str]:
    """A code or number kept whole (separators dropped from numbers: "2,500" is "2500"), and its parts."""
    parts = [p for p in _JOINERS.split(token) if p]
    if all(p.isdigit() for p in parts):
        return [token.replace(",", "")]
    whole = "-".join(parts)
    return [whole, *[t for p in parts for t in _word_terms(p)]]


def analyse(text: str) -> list[str]:
    """The terms of a text for BM25: normalised, split by script, stopwords dropped, stemmed."""
    terms: list[str] = []
    for match in _TOKEN.finditer(normalise(text)):
        token = match.group().strip("_")
        if not token:
            continue
        if _JOINERS.search(token) and any(c.isdigit() for c in token):
            terms.extend(_code_terms(token))
        else:
            for word in _JOINERS.split(token):
                if word:
                    terms.extend(_word_terms(word))
    return terms
