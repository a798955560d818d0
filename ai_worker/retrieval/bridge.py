"""An English search query for a question in Arabic or Russian (the cross-lingual bridge).

The bundled embedder (MiniLM) reads English only, and keyword search cannot match "доставка" to
"delivery". A question in another script is therefore also searched with the English words of a
customer-service vocabulary (`lexicon/<language>.tsv`: delivery, returns, payment, opening hours,
appointments, the emirates, …) that its words are found in, plus what needs no translation (numbers,
codes, words already in Latin letters). It is a word list, not a translator: it finds the excerpt;
what the customer reads is the business's own sentence after a lead-in in their language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import Stemmer

from ai_worker.retrieval.analysis import is_stopword, normalise

LEXICON_DIR = Path(__file__).resolve().parent / "lexicon"
_STEMMERS = {"ar": "arabic", "ru": "russian"}
#: Arabic clitics written onto the next word: the article, "and", "with/by", "for", "like", "so".
_ARABIC_PREFIXES = ("وبال", "وال", "بال", "فال", "كال", "لل", "ال", "و", "ب", "ل", "ك", "ف")
MIN_STEM = 4
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
#: Kept as written: numbers, codes and words in Latin letters ("QLM", "DO-ARM-2048", "3000").
_KEPT = re.compile(r"[0-9][0-9.,:–-]*[0-9%]?|[A-Za-z][A-Za-z0-9-]*")


@dataclass(frozen=True)
class Lexicon:
    #: Normalised word or stem → English search words.
    words: dict[str, str]
    #: Normalised multi-word forms ("عند الاستلام") → English search words.
    phrases: dict[str, str]
    stemmer: Stemmer.Stemmer


@cache
def lexicon(language: str) -> Lexicon | None:
    """The shipped vocabulary of `language` ("ar", "ru"), or None when Parley has none for it."""
    path = LEXICON_DIR / f"{language}.tsv"
    if language not in _STEMMERS or not path.exists():
        return None
    stemmer = Stemmer.Stemmer(_STEMMERS[language])
    words: dict[str, str] = {}
    phrases: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        english, forms = line.split("\t", 1)
        for form in forms.split("|"):
            form = normalise(form.strip())
            if " " in form:
                phrases[form] = _joined(phrases.get(form), english)
                continue
            for key in _keys(form, stemmer):
                words[key] = _joined(words.get(key), english)
    return Lexicon(words=words, phrases=phrases, stemmer=stemmer)


def _keys(word: str, stemmer: Stemmer.Stemmer) -> tuple[str, ...]:
    # A stem of three letters or fewer is another word as often as not ("прием" stems to "при").
    stem = stemmer.stemWord(word)
    return (word, stem) if len(stem) >= MIN_STEM and stem != word else (word,)


def _joined(existing: str | None, english: str) -> str:
    return english if existing is None else f"{existing} {english}"


def _candidates(word: str, *, language: str) -> list[str]:
    if language != "ar":
        return [word]
    found = [word]
    for prefix in _ARABIC_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            found.append(word[len(prefix) :])
    return found


def _gloss(word: str, entry: Lexicon, *, language: str) -> str | None:
    for candidate in _candidates(word, language=language):
        for key in _keys(candidate, entry.stemmer):
            if key in entry.words:
                return entry.words[key]
    return None


def english_terms(text: str, *, language: str) -> tuple[str, ...]:
    """The terms of `text` in `language` for searching an English knowledge base: per word the
    vocabulary knows, that word and its English words ("доставка delivery deliver"); per number,
    code or Latin word, itself. Empty when the vocabulary knows none of its words (the question is
    then searched as written)."""
    entry = lexicon(language)
    if entry is None:
        return ()
    folded = normalise(text)
    terms = [f"{phrase} {english}" for phrase, english in entry.phrases.items() if phrase in folded]
    for word in _WORD.findall(folded):
        if _KEPT.fullmatch(word):
            continue
        english = _gloss(word, entry, language=language)
        if english is not None:
            terms.append(f"{word} {english}")
    if not terms:
        return ()
    return tuple(dict.fromkeys([*terms, *_KEPT.findall(text)]))


def unglossed_words(text: str, *, language: str) -> tuple[str, ...]:
    """The content words of `text` the vocabulary has no English for (normalised), in order: still
    part of what is asked ("do you sell used cars" is not a question about selling)."""
    entry = lexicon(language)
    if entry is None:
        return ()
    words = (w for w in _WORD.findall(normalise(text)) if not _KEPT.fullmatch(w))
    found = [w for w in words if len(w) >= 3 and not is_stopword(w) and _gloss(w, entry, language=language) is None]
    return tuple(dict.fromkeys(found))
