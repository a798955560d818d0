"""Matching a customer's question against a tenant's curated questions.

Two kinds of evidence, both required:

* meaning: cosine similarity of the worker's embedder (all-MiniLM-L6-v2) between the customer's
  question and the stored question;
* words: every content word of the customer's question appears (fuzzily, rapidfuzz ratio, so a
  typo still counts) in the stored question or its answer. A related-but-different question
  ("Do you sell gift *wrapping*?" against "Do you sell gift cards?") is close in meaning but names
  something the pair never mentions; that word is what keeps it out.

A close match (cosine >= `close`) needs no missing word; a strong one (>= `strong`) may miss one.
MiniLM is English-only: a question in another language (or script) is matched on words alone, and
only when the stored question is nearly the same text (token_set_ratio >= `other_language_ratio`)
and no word is missing. The defaults are measured on sample_kb/faq.md with the paraphrases and
related-but-different questions of tests/ai_worker/data/curated_questions.json.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import Stemmer
from rapidfuzz import fuzz, utils

#: Embeds texts (normalised vectors), e.g. `SentenceTransformerEmbedder.embed`.
Embed = Callable[[list[str]], Sequence[Any]]


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Words that carry no subject: a question may use any of them without its pair mentioning it.
_GENERIC_WORDS = _word_set(
    """
    a an the i you your yours we our ours us my me mine it its this that these those there here
    is are am was were be been being do does did done doing can could will would should shall may might must
    have has had having of to in on at for with and or but if as by from about into not no yes
    what whats which who whom whose when where why how any some all please hi hello thanks thank much many
    get got take took make made want need know tell like go let give time times one also just still
    ما ماذا من متى أين اين لماذا كيف كم هل أي اي في على إلى الى عن مع و أو او لا نعم هذا هذه لديكم عندكم
    что кто когда где почему зачем как какой какая какое какие сколько ли можно есть чем куда откуда
    я вы ты мы у в на с и или не да нет это этот эта вас вам ваш ваша ваши мне меня для по о об от до
    """
)
_STEMMERS = {"en": "english", "ar": "arabic", "ru": "russian"}
#: A word counts as present when it is this close (rapidfuzz ratio) to a word of the pair.
WORD_MATCH_RATIO = 85


@cache
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(_STEMMERS.get(language, "english"))


def content_words(text: str, *, language: str = "en") -> set[str]:
    """The stems of the words of `text` that name something (generic words and 1-letter words dropped)."""
    words = [w for w in re.findall(r"\w+", text.casefold()) if w not in _GENERIC_WORDS and len(w) > 1]
    return set(_stemmer(language).stemWords(words))


def missing_words(question: str, *, pair_text: str, language: str = "en") -> list[str]:
    """The customer's content words that appear in neither the stored question nor its answer."""
    have = content_words(pair_text, language=language)
    missing = []
    for word in sorted(content_words(question, language=language)):
        if word in have:
            continue
        if not any(fuzz.ratio(word, other) >= WORD_MATCH_RATIO for other in have if abs(len(other) - len(word)) <= 2):
            missing.append(word)
    return missing


def is_english(text: str, language: str) -> bool:
    """The embedder can vouch for the question: English, and written in Latin letters."""
    letters = [c for c in text if c.isalpha()]
    latin = sum(1 for c in letters if c.isascii())
    return language == "en" and (not letters or latin / len(letters) >= 0.9)


@dataclass(frozen=True)
class CuratedEntry:
    id: str
    question: str
    answer: str
    #: The document id the pair was extracted from, or "staff".
    source: str


@dataclass(frozen=True)
class MatchThresholds:
    #: Cosine at or above which a question may match with no content word missing.
    close: float = 0.63
    #: Cosine at or above which a question may match with one content word missing.
    strong: float = 0.80
    #: For a question the embedder cannot read: rapidfuzz token_set_ratio (0-100) to the stored question.
    other_language_ratio: float = 90.0


@dataclass(frozen=True)
class CuratedMatch:
    entry: CuratedEntry
    cosine: float
    lexical: float
    missing: tuple[str, ...]


@dataclass
class CuratedIndex:
    """One tenant's curated answers with their questions embedded once."""

    entries: list[CuratedEntry]
    embed: Embed
    _vectors: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        texts = [e.question for e in self.entries]
        self._vectors = np.asarray(self.embed(texts), dtype=np.float32) if texts else np.zeros((0, 1), np.float32)

    def candidates(self, text: str, *, language: str) -> list[CuratedMatch]:
        """Every entry scored against `text`, best first (by cosine for English, else by words)."""
        if not self.entries:
            return []
        english = is_english(text, language)
        cosines = self._vectors @ np.asarray(self.embed([text])[0], dtype=np.float32) if english else None
        scored = []
        for index, entry in enumerate(self.entries):
            lexical = fuzz.token_set_ratio(text, entry.question, processor=utils.default_process)
            missing = missing_words(text, pair_text=f"{entry.question}\n{entry.answer}", language=language)
            cosine = float(cosines[index]) if cosines is not None else 0.0
            scored.append(CuratedMatch(entry=entry, cosine=cosine, lexical=lexical, missing=tuple(missing)))
        scored.sort(key=lambda m: (m.cosine, m.lexical) if english else (m.lexical, m.cosine), reverse=True)
        return scored

    def best(self, text: str, *, language: str, thresholds: MatchThresholds) -> CuratedMatch | None:
        """The best entry if it passes the thresholds, else None (the next path answers)."""
        found = self.candidates(text, language=language)
        if not found:
            return None
        top = found[0]
        return top if accepts(top, english=is_english(text, language), thresholds=thresholds) else None


def accepts(match: CuratedMatch, *, english: bool, thresholds: MatchThresholds) -> bool:
    if not english:
        return match.lexical >= thresholds.other_language_ratio and not match.missing
    if match.cosine >= thresholds.strong:
        return len(match.missing) <= 1
    return match.cosine >= thresholds.close and not match.missing
