"""The extractive answer: the business's own sentences that best answer the question.

Used when no model writes the answer, or a generated answer failed the grounding check: the
customer gets the business's own words after a lead-in in their language. A sentence is chosen for
its closeness in meaning to the question (the embedder's cosine, when the caller has one) and the
share of the question's stemmed keywords it says, from any of the retrieved excerpts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import Stemmer

from ai_worker.answers.grounding import plain_numbers
from ai_worker.answers.texts import lead_in

MAX_SENTENCES = 3
#: Quoted text beyond this is cut at a sentence boundary (a chat reply, not a document).
MAX_CHARS = 600

_SENTENCE_END = re.compile(r"(?<=[.!?؟…])\s+|\n+")
_WRAPPED_LINE = re.compile(r"(?<=[^\s.!?:;])\n(?=[a-z(])")
_DIGIT = re.compile(r"\d")
_TABLE_RULE = re.compile(r"\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?")
#: Added to a quotable sentence's merit when it states a number.
NUMBER_BONUS = 0.1
#: Sentences under this share of the best one's merit are noise next to it.
KEEP_SHARE = 0.7
_WORD = re.compile(r"[^\W_]+")


def _vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


_STOP = _vocabulary(
    "a an the is are was were be been it its this that i you we they me my your our us to of in on at for with "
    "and or but do does did can could will would should may might have has had not no yes so as by from if "
    "what which when where how who whom why there here please any some about "
    "much many whats often hi hello tell know want need like u ur r "
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
    """The excerpt's sentences, without Markdown headings and list bullets' marks. A line break
    before a lower-case word is a PDF's wrapped line, not the end of a sentence; a Markdown table's
    row is one sentence naming its header's columns ("Emirate: Sharjah; Delivery fee: AED 95")."""
    found = []
    for text, is_row in _blocks(excerpt):
        parts = [text] if is_row else _SENTENCE_END.split(_WRAPPED_LINE.sub(" ", text))
        for part in parts:
            part = part.strip()
            if not part or part.startswith("#"):
                continue
            part = re.sub(r"^[-*•]\s+", "", part)
            if len(_WORD.findall(part)) >= 3:
                found.append(part)
    return found


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _blocks(text: str) -> Iterator[tuple[str, bool]]:
    """Runs of prose, and table rows (with their column names when the header is in `text`)."""
    lines = text.split("\n")
    prose: list[str] = []
    header: list[str] | None = None
    for i, line in enumerate(lines):
        if not line.lstrip().startswith("|"):
            header = None
            prose.append(line)
            continue
        if prose:
            yield "\n".join(prose), False
            prose = []
        if _TABLE_RULE.fullmatch(line.strip()):
            continue
        if i + 1 < len(lines) and _TABLE_RULE.fullmatch(lines[i + 1].strip()):
            header = _cells(line)  # the header row says nothing by itself: it names the columns
        elif header is not None and len(_cells(line)) == len(header):
            yield "; ".join(f"{name}: {cell}" for name, cell in zip(header, _cells(line), strict=True)) + ".", True
        else:
            yield line, True
    if prose:
        yield "\n".join(prose), False


@dataclass(frozen=True)
class Candidate:
    """A sentence that may be quoted: where it comes from and how close it is to the question."""

    sentence: str
    #: Cosine similarity to the question (0 when there is no embedder to ask).
    similarity: float = 0.0
    #: Which excerpt it is from (an index into the caller's list).
    source: int = 0


def _merit(candidate: Candidate, asked: Terms) -> float:
    # Meaning and the question's own words both count; of two such sentences the one stating a
    # number (a fee, a number of days, an hour) is likelier the answer to a customer's question.
    base = candidate.similarity + (_said(asked, keywords(candidate.sentence)) / len(asked) if asked else 0.0)
    return base + NUMBER_BONUS if base > 0 and _DIGIT.search(candidate.sentence) else base


def best_candidates(candidates: Sequence[Candidate], asked: Terms, *, limit: int = MAX_SENTENCES) -> list[Candidate]:
    """Up to `limit` candidates most worth quoting, best first; those far weaker than the best one
    are left out. With nothing in common with any of them (another language than the excerpts'),
    the first ones: retrieval judged their excerpts relevant, the start is the likeliest answer."""
    merits = [_merit(c, asked) for c in candidates]
    best = max(merits, default=0.0)
    if best <= 0:
        return list(candidates[:limit])
    ranked = sorted(range(len(candidates)), key=lambda i: (-merits[i], i))[:limit]
    return [candidates[i] for i in ranked if merits[i] >= KEEP_SHARE * best]


def best_sentences(*, question: str | Terms, excerpt: str, limit: int = MAX_SENTENCES) -> list[str]:
    """Up to `limit` sentences of one excerpt saying the most of the question's terms, best first."""
    asked = terms_of(question) if isinstance(question, str) else question
    return [c.sentence for c in best_candidates([Candidate(s) for s in sentences(excerpt)], asked, limit=limit)]


def quoted(picked: Sequence[str], *, language: str) -> str | None:
    """The lead-in and the picked sentences (within MAX_CHARS), or None when there is none."""
    kept: list[str] = []
    for sentence in picked:
        if kept and sum(len(s) + 1 for s in kept) + len(sentence) > MAX_CHARS:
            break
        kept.append(sentence)
    if not kept:
        return None
    return f"{lead_in(language=language)}\n\n{' '.join(kept)}"


def extractive_answer(*, question: str | Terms, excerpt: str, language: str) -> str | None:
    """The lead-in and the excerpt's best sentences, or None when it has no sentence to quote."""
    return quoted(best_sentences(question=question, excerpt=excerpt), language=language)
