"""The grounded pipeline: responders (catalog, curated) → retrieval → generated (checked) →
extractive → the honest fallback. DESIGN.md, "How an answer is made"."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ai_worker.answers.base import Answer, Question, Responder
from ai_worker.answers.extractive import Terms, covered, extractive_answer, terms_of
from ai_worker.answers.grounding import check_grounding
from ai_worker.answers.texts import fallback_text
from ai_worker.retrieval.hybrid import identifiers
from ai_worker.retrieval.store import Hit

log = logging.getLogger(__name__)

Retrieve = Callable[[Question], list[Hit]]
#: Writes an answer from the question and the excerpts (the model; may raise LLMError).
Generate = Callable[[Question, list[Hit]], str]
#: How relevant each hit is to the question, 0..1 (fused ranks say nothing about that).
Relevance = Callable[[Question, list[Hit]], list[float]]


@dataclass(frozen=True)
class Thresholds:
    #: The best hit under this: nothing relevant, the fallback without asking the model.
    min_relevance: float
    #: A failed generated answer is replaced by quoted sentences only when the best hit is at least
    #: this relevant; the excerpt quoted is then the relevant one sharing most of the question's words.
    min_extractive_relevance: float


def lexical_relevance(question: Question, hits: list[Hit]) -> list[float]:
    """Share of the question's keywords each hit contains (the default when no embedding is at hand)."""
    terms = question_terms(question)
    return [covered(terms, h.text) for h in hits]


def question_terms(question: Question) -> Terms:
    return terms_of(question.text, question.bridge)


def similarity_relevance(
    question: Question, hits: list[Hit], similarity: Mapping[str, float], *, dense_reads_question: bool = True
) -> list[float]:
    """Each hit's cosine similarity to the question; a hit holding every code the question names
    (a SKU, an order number) counts as fully relevant: the embedder reads codes poorly.

    When the embedder cannot read the question (the bundled MiniLM is English-only: an Arabic
    question about motorbikes is as "similar" to the delivery FAQ as one about delivery), the
    share of the question's words in the hit stands in for the similarity."""
    codes = [c.lower() for c in identifiers(question.text)]
    terms = question_terms(question)
    return [
        1.0
        if codes and all(c in h.text.lower() for c in codes)
        else (similarity.get(h.chunk_id, 0.0) if dense_reads_question else covered(terms, h.text))
        for h in hits
    ]


def mostly_latin(text: str) -> bool:
    """Whether most of the letters of `text` are Latin (what an English-only embedder can read)."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isascii() for c in letters) * 2 >= len(letters)


def fallback(question: Question) -> Answer:
    return Answer(text=fallback_text(language=question.language), path="fallback", needs_person=True)


def _from_responders(question: Question, responders: Sequence[Responder]) -> Answer | None:
    for responder in responders:
        answer = responder.respond(question)
        if answer is not None:
            return answer
    return None


def _extractive(question: Question, hit: Hit) -> Answer | None:
    text = extractive_answer(question=question_terms(question), excerpt=hit.text, language=question.language)
    return None if text is None else Answer(text=text, path="extractive", hits=[hit])


def answer_question(
    question: Question,
    *,
    responders_before: Sequence[Responder],
    retrieve: Retrieve,
    generate: Generate | None,
    thresholds: Thresholds,
    relevance: Relevance = lexical_relevance,
    known: Sequence[str] = (),
) -> Answer:
    """The first way that can answer `question` truthfully; the fallback (needs a person) otherwise.

    `generate` None: no model writes the answer (one not trusted to reason over excerpts); the
    business's own sentences are quoted when an excerpt is relevant enough.
    `known`: texts an answer may quote besides the excerpts (the business's name)."""
    answered = _from_responders(question, responders_before)
    if answered is not None:
        return answered
    hits = retrieve(question)
    scores = relevance(question, hits) if hits else []
    best = max(range(len(hits)), key=lambda i: scores[i], default=None)
    if best is None or scores[best] < thresholds.min_relevance:
        return fallback(question)
    if generate is not None:
        generated = generate(question, hits).strip()
        verdict = check_grounding(answer=generated, question=question.text, sources=[h.text for h in hits], known=known)
        if verdict.ok:
            return Answer(text=generated, path="generated", hits=hits)
        log.info("the generated answer failed the grounding check (%s)", verdict.rule)
    if scores[best] < thresholds.min_extractive_relevance:
        return fallback(question)
    quotable = [h for h, s in zip(hits, scores, strict=True) if s >= thresholds.min_relevance]
    for hit in _by_words_shared(question, quotable, scores=dict(zip((h.chunk_id for h in hits), scores, strict=True))):
        extracted = _extractive(question, hit)
        if extracted is not None:
            return extracted
    return fallback(question)


def _by_words_shared(question: Question, hits: list[Hit], *, scores: Mapping[str, float]) -> list[Hit]:
    # The closest excerpt by meaning is often a neighbour of the answer (cancellations next to
    # payments); among the relevant ones, the one holding most of the question's words is quoted.
    terms = question_terms(question)
    return sorted(hits, key=lambda h: (covered(terms, h.text), scores[h.chunk_id]), reverse=True)
