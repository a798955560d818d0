"""The extractive answer: the sentences of the best excerpt that best match the question.

Used when a generated answer failed the grounding check: the customer still gets the business's
own words, after a lead-in in their language, instead of what the model made up. Overlap of
stemmed keywords is enough here: retrieval already picked the excerpt.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import Stemmer

from ai_worker.answers.grounding import plain_numbers
from ai_worker.answers.texts import lead_in

MAX_SENTENCES = 3
#: Quoted text beyond this is cut at a sentence boundary (a chat reply, not a document).
MAX_CHARS = 600

_SENTENCE_END = re.compile(r"(?<=[.!?؟…])\s+|\n+")
_WORD = re.compile(r"[^\W_]+")


def _vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


_STOP = _vocabulary(
    "a an the is are was were be been it its this that i you we they me my your our us to of in on at for with "
    "and or but do does did can could will would should may might have has had not no yes so as by from if "
    "what which when where how who whom why there here please any some about "
    "и в во на с со к по за из у о об от до не да нет это я вы мы вас нас мне ли а но как что где когда "
    "و في من على إلى الى عن مع هل نعم لا أن ان هذا هذه ما كم متى أين كيف"
)


@functools.cache
def _stemmer(script: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer({"arabic": "arabic", "cyrillic": "russian"}.get(script, "english"))


def _script(word: str) -> str:
    first = word[0]
    if "\u0600" <= first <= "\u06ff":
        return "arabic"
    if "\u0400" <= first <= "\u04ff":
        return "cyrillic"
    return "latin"


def keywords(text: str) -> set[str]:
    """Content words of `text`, lower-cased, stemmed by their script's stemmer; numbers kept whole."""
    found: set[str] = set()
    for word in _WORD.findall(plain_numbers(text).lower().replace("ё", "е")):
        if word in _STOP or (len(word) < 2 and not word.isdigit()):
            continue
        found.add(word if word.isdigit() else _stemmer(_script(word)).stemWord(word))
    return found


#: What a question asks for: each item one word, as a set of the stems that say it (a word of an
#: Arabic or Russian question is the English words its bridge gives it, any one of which will do).
Terms = list[frozenset[str]]


def terms_of(question: str, bridge: Sequence[str] = ()) -> Terms:
    """The question's keywords one per term, or, with a bridge (`retrieval.bridge.english_terms`),
    the keywords of each of its terms."""
    if not bridge:
        return [frozenset({word}) for word in sorted(keywords(question))]
    found = [frozenset(keywords(term)) for term in bridge]
    return [term for term in dict.fromkeys(found) if term]


def covered(terms: Terms, text: str) -> float:
    """Share of the terms `text` says (0 when there are none)."""
    return _said(terms, keywords(text)) / len(terms) if terms else 0.0


def _said(terms: Terms, present: set[str]) -> int:
    return sum(bool(term & present) for term in terms)


def coverage(question: str, text: str) -> float:
    """Share of the question's keywords found in `text` (0 when the question has none)."""
    return covered(terms_of(question), text)


def sentences(excerpt: str) -> list[str]:
    """The excerpt's sentences, without Markdown headings and list bullets' marks."""
    found = []
    for part in _SENTENCE_END.split(excerpt):
        part = part.strip()
        if not part or part.startswith("#"):
            continue
        part = re.sub(r"^[-*•]\s+", "", part)
        if len(_WORD.findall(part)) >= 3:
            found.append(part)
    return found


def best_sentences(*, question: str | Terms, excerpt: str, limit: int = MAX_SENTENCES) -> list[str]:
    """Up to `limit` sentences saying the most of the question's terms, in the excerpt's order.

    With no shared keyword at all (another language than the excerpt's), the excerpt's opening
    sentences: retrieval judged the excerpt relevant, its start is the likeliest answer."""
    candidates = sentences(excerpt)
    asked = terms_of(question) if isinstance(question, str) else question
    scored = [(_said(asked, keywords(s)), i) for i, s in enumerate(candidates)]
    best = max((score for score, _ in scored), default=0)
    if best == 0:
        return candidates[:limit]
    # Sentences far weaker than the best one are noise next to it.
    chosen = sorted(sorted(scored, key=lambda pair: (-pair[0], pair[1]))[:limit], key=lambda pair: pair[1])
    return [candidates[i] for score, i in chosen if score * 2 >= best]


def extractive_answer(*, question: str | Terms, excerpt: str, language: str) -> str | None:
    """The lead-in and the best sentences, or None when the excerpt has no sentence to quote."""
    picked = best_sentences(question=question, excerpt=excerpt)
    quoted: list[str] = []
    for sentence in picked:
        if quoted and sum(len(s) + 1 for s in quoted) + len(sentence) > MAX_CHARS:
            break
        quoted.append(sentence)
    if not quoted:
        return None
    return f"{lead_in(language=language)}\n\n{' '.join(quoted)}"
