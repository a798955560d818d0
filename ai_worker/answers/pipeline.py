"""The grounded pipeline: responders (catalog, curated) → retrieval → generated (checked) →
extractive → the honest fallback. DESIGN.md, "How an answer is made"."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from ai_worker.answers.base import Answer, Question, Responder
from ai_worker.answers.extractive import (
    Candidate,
    Terms,
    best_candidates,
    covered,
    keywords,
    quoted,
    sentences,
    terms_of,
)
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
#: Each sentence's cosine similarity to the question (the embedder's), in order.
SentenceSimilarity = Callable[[Question, list[str]], list[float]]

#: A short question is answered from the excerpts only when they say at least this share of its
#: terms (tuned on the answer benchmark, docs/BENCHMARKS.md "6. Answers").
MIN_TERMS_FOUND = 0.5
#: A message with more terms than this is long (a complaint, a burst): the share is not checked.
SCOPE_MAX_TERMS = 12


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


def answer_question(
    question: Question,
    *,
    responders_before: Sequence[Responder],
    retrieve: Retrieve,
    generate: Generate | None,
    thresholds: Thresholds,
    relevance: Relevance = lexical_relevance,
    similar: SentenceSimilarity | None = None,
    responders_after: Sequence[Responder] = (),
    quotable: Callable[[Hit], bool] = lambda hit: True,
    known: Sequence[str] = (),
) -> Answer:
    """The first way that can answer `question` truthfully; the fallback (needs a person) otherwise.

    `generate` None: no model writes the answer (one not trusted to reason over excerpts); the
    business's own sentences are quoted when an excerpt is relevant enough.
    `similar`: the embedder's view of each excerpt sentence (None when it cannot read the question).
    `responders_after`: tried when the excerpts cannot answer, before the fallback.
    `quotable`: whether an excerpt's sentences may be quoted (a catalog's rows are answered from the
    rows by the catalog's own ways, not quoted as "sku: … name: …").
    `known`: texts an answer may quote besides the excerpts (the business's name)."""
    answered = _from_responders(question, responders_before)
    if answered is None:
        answered = _from_excerpts(
            question,
            retrieve=retrieve,
            generate=generate,
            thresholds=thresholds,
            relevance=relevance,
            similar=similar,
            quotable=quotable,
            known=known,
        )
    return answered or _from_responders(question, responders_after) or fallback(question)


def _from_excerpts(
    question: Question,
    *,
    retrieve: Retrieve,
    generate: Generate | None,
    thresholds: Thresholds,
    relevance: Relevance,
    similar: SentenceSimilarity | None,
    quotable: Callable[[Hit], bool],
    known: Sequence[str],
) -> Answer | None:
    hits = retrieve(question)
    if not hits:
        return None
    kept = [quotable(h) for h in hits]
    candidates = _candidates(question, hits, kept, similar)
    scores = relevance(question, hits)
    # A short question is often far from a long excerpt and close to one of its sentences.
    best_quotable = max(
        [s for s, k in zip(scores, kept, strict=True) if k] + [c.similarity for c in candidates], default=-1.0
    )
    best_row = max((s for s, k in zip(scores, kept, strict=True) if not k), default=-1.0)
    best = max(best_quotable, best_row)
    if best < thresholds.min_relevance or not in_scope(question, hits):
        return None
    if generate is not None:
        generated = generate(question, hits).strip()
        verdict = check_grounding(answer=generated, question=question.text, sources=[h.text for h in hits], known=known)
        if verdict.ok:
            return Answer(text=generated, path="generated", hits=hits)
        log.info("the generated answer failed the grounding check (%s)", verdict.rule)
    # A catalog row closer to the question than any sentence to quote: the product's own ways answer.
    if best_quotable < thresholds.min_extractive_relevance or best_row > best_quotable:
        return None
    return _extractive(question, hits, candidates)


def in_scope(question: Question, hits: list[Hit]) -> bool:
    """Whether the excerpts say at least MIN_TERMS_FOUND of what a short question asks about.

    "whats the weather in dubai tomorrow" is close in meaning to the Dubai delivery times, and the
    excerpts say neither "weather" nor "tomorrow": the knowledge does not answer it. A long message
    (a complaint, a burst of several) always holds words the knowledge never uses: not checked."""
    unbridged = [frozenset(keywords(word)) for word in question.unbridged]
    terms = [*question_terms(question), *(term for term in unbridged if term)]
    if not terms or len(terms) > SCOPE_MAX_TERMS:
        return True
    return covered(terms, "\n".join(h.text for h in hits)) >= MIN_TERMS_FOUND


def _candidates(
    question: Question, hits: list[Hit], kept: list[bool], similar: SentenceSimilarity | None
) -> list[Candidate]:
    """The sentences of the quotable hits (`kept`), each with its hit's index and, with `similar`, its cosine."""
    found = [
        Candidate(sentence, source=i)
        for i, (hit, keep) in enumerate(zip(hits, kept, strict=True))
        if keep
        for sentence in sentences(hit.text)
    ]
    if similar is None or not found:
        return found
    similarities = similar(question, [c.sentence for c in found])
    return [replace(c, similarity=value) for c, value in zip(found, similarities, strict=True)]


def _extractive(question: Question, hits: list[Hit], candidates: list[Candidate]) -> Answer | None:
    picked = best_candidates(candidates, question_terms(question))
    text = quoted([c.sentence for c in picked], language=question.language)
    if text is None:
        return None
    sources = dict.fromkeys(c.source for c in picked if c.sentence in text)
    return Answer(text=text, path="extractive", hits=[hits[i] for i in sources])
