"""RQ jobs, enqueued by the gateway by dotted name with JSON arguments.

Each job reaches the models its worker process loaded once through `runtime.current()`.
Failures the customer should hear about are reported to the gateway as a failed task; only
an unreachable gateway makes a job raise (RQ then retries it).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from ai_worker import runtime
from ai_worker.answers.base import Answer, Question
from ai_worker.answers.pipeline import Thresholds, answer_question, mostly_latin, similarity_relevance
from ai_worker.curated.ingest import remove_document_pairs, sync_document_pairs
from ai_worker.gateway_client import ClaimDeferred
from ai_worker.ingestion.parsers import UnreadableDocument
from ai_worker.ingestion.pipeline import ingest, parse_limits, sync_products
from ai_worker.language import detect_language
from ai_worker.lease import LeaseKeeper
from ai_worker.links import strip_unsafe_links
from ai_worker.llm.base import GenerationStats, LLMError
from ai_worker.llm.resilient import ResilientLLM
from ai_worker.metrics import observe_answer, observed_job
from ai_worker.output_guard import check_answer
from ai_worker.prompt import build_messages, instructions_for
from ai_worker.retrieval.bridge import english_terms, unglossed_words
from ai_worker.retrieval.store import Hit
from ai_worker.token_stream import TokenPublisher
from parley_contract.logging import request_id_var
from parley_contract.schemas import (
    DocumentIngested,
    SearchHit,
    SearchResponse,
    Source,
    TaskClaim,
    TaskCompletion,
    TaskFailure,
    TenantSettings,
    Timings,
)

log = logging.getLogger(__name__)

EXCERPT_CHARS = 400


class LeaseLost(Exception):
    """The task was claimed again (our lease ran out) or finished elsewhere: this attempt must not answer."""


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1].rstrip() + "…"


def _sources(hits: list[Hit]) -> list[Source]:
    return [
        Source(
            document=h.document, document_id=h.document_id, chunk_id=h.chunk_id, score=h.score, excerpt=_excerpt(h.text)
        )
        for h in hits
    ]


@observed_job
def answer_task(task_id: str) -> dict[str, Any]:
    rt = runtime.current()
    try:
        claim = rt.gateway.claim(task_id)
    except ClaimDeferred as deferred:
        # Ends the job instead of waiting in it: the gateway puts it back when the task may run.
        log.info("task %s must wait (%s); the gateway puts it back", task_id, deferred.reason)
        return {"task_id": task_id, "outcome": "deferred"}
    if claim is None:
        log.info("task %s is finished or held elsewhere; skipping", task_id)
        return {"task_id": task_id, "outcome": "skipped"}
    request_id_var.set(claim.request_id)  # observed_job unbinds it when the job ends
    started = time.perf_counter()
    timings = Timings(queue_wait_ms=round(claim.queue_wait_ms, 1))
    lease = LeaseKeeper(rt.gateway, task_id=task_id, attempt=claim.attempt, lease_seconds=claim.lease_seconds)
    try:
        with lease:
            return _answer(rt, claim, lease, started=started, timings=timings)
    except LeaseLost:
        log.warning("task %s: attempt %d lost its claim; its answer is dropped", task_id, claim.attempt)
        return {"task_id": task_id, "outcome": "skipped"}


def _answer(
    rt: runtime.Runtime, claim: TaskClaim, lease: LeaseKeeper, *, started: float, timings: Timings
) -> dict[str, Any]:
    task_id = claim.task_id
    try:
        if rt.settings.answer_pipeline == "legacy":
            answer = _legacy_answer(rt, claim, lease, timings=timings)
        else:
            answer = _grounded_answer(rt, claim, lease, timings=timings)
        timings.answer_path = answer.path
        if answer.path == "generated":
            _guard(claim, answer)
    except LeaseLost:
        raise
    except Exception as exc:
        error = str(exc) if isinstance(exc, LLMError) else f"{type(exc).__name__}: {exc}"
        log.warning("task %s failed: %s", task_id, error)
        timings.total_ms = round((time.perf_counter() - started) * 1000, 1)
        observe_answer(timings)
        rt.gateway.fail(task_id, TaskFailure(error=error, timings=timings, attempt=claim.attempt))
        return {"task_id": task_id, "outcome": "failed", "error": error}
    timings.total_ms = round((time.perf_counter() - started) * 1000, 1)
    observe_answer(timings)
    completion = TaskCompletion(
        answer=answer.text,
        sources=answer.sources or _sources(answer.hits),
        timings=timings,
        needs_person=answer.needs_person,
        attempt=claim.attempt,
    )
    if not rt.gateway.complete(task_id, completion):
        log.warning("task %s: attempt %d finished after the task was claimed again; not stored", task_id, claim.attempt)
        return {"task_id": task_id, "outcome": "skipped"}
    log.info("task %s answered (%s) by %s in %.0f ms", task_id, answer.path, timings.provider, timings.total_ms)
    return {"task_id": task_id, "outcome": "done"}


def _guard(claim: TaskClaim, answer: Answer) -> None:
    """The output guard on what a model wrote: a leak of the instructions becomes the refusal."""
    verdict = check_answer(
        answer.text,
        instructions=instructions_for(settings=claim.settings, language=claim.language, prompt=claim.prompt),
        language=claim.language,
        business_name=claim.settings.business_name,
    )
    if verdict.blocked is not None:
        # Streaming partners may have seen the first words already; what is stored and delivered is the refusal.
        log.warning("task %s: the answer was replaced by a refusal: %s", claim.task_id, verdict.blocked)
        answer.text = verdict.answer
        answer.sources = []
        answer.hits = []


def _legacy_answer(rt: runtime.Runtime, claim: TaskClaim, lease: LeaseKeeper, *, timings: Timings) -> Answer:
    """Before issue #16: whatever the model writes from the excerpts (ANSWER_PIPELINE=legacy, for the benchmark)."""
    retrieval = rt.retriever.search(claim.tenant_id, claim.text, claim.settings.top_k)
    timings.retrieval_ms = round(retrieval.took_ms, 1)
    text = _generate(rt, claim, lease, retrieval.hits, timings=timings)
    if not text:
        raise LLMError(f"the model ({timings.provider}) returned an empty answer")
    return Answer(text=text, path="generated", hits=retrieval.hits)


def _question(rt: runtime.Runtime, claim: TaskClaim) -> Question:
    # The message's own language; the contact's stored one when it is too short to tell.
    language = detect_language(claim.text, fallback=claim.language)
    reads = _embedder_reads(rt, claim.text)
    return Question(
        tenant_id=claim.tenant_id,
        text=claim.text,
        language=language,
        settings=claim.settings,
        history=tuple(claim.history),
        bridge=() if reads else english_terms(claim.text, language=language),
        unbridged=() if reads else unglossed_words(claim.text, language=language),
    )


def _embedder_reads(rt: runtime.Runtime, text: str) -> bool:
    # The bundled embedder reads English only; a model of the operator's choice is trusted in any script.
    return bool(rt.settings.embedding_model) or mostly_latin(text)


def _composes(rt: runtime.Runtime, settings: TenantSettings) -> bool:
    """Whether the model writes the answer from the excerpts (ANSWER_GENERATION)."""
    mode = rt.settings.answer_generation
    if mode != "auto":
        return mode == "model"
    try:
        return rt.llm_for(settings).composes_answers
    except LLMError:
        return True  # no model loaded: asking it reports why, as a failed task, as before


def _grounded_answer(rt: runtime.Runtime, claim: TaskClaim, lease: LeaseKeeper, *, timings: Timings) -> Answer:
    question = _question(rt, claim)

    def retrieve(q: Question) -> list[Hit]:
        retrieval = rt.retriever.search(q.tenant_id, q.search_text, q.settings.top_k, dense_query=q.dense_text)
        timings.retrieval_ms = round(retrieval.took_ms, 1)
        return retrieval.hits

    reads = bool(question.bridge) or _embedder_reads(rt, question.text)
    embedded = functools.cache(lambda: rt.store.embedder.embed([question.dense_text])[0])

    def relevance(q: Question, hits: list[Hit]) -> list[float]:
        similarity = rt.store.similarities(q.tenant_id, embedded(), [h.chunk_id for h in hits])
        return similarity_relevance(q, hits, similarity, dense_reads_question=reads)

    def similar(q: Question, sentences: list[str]) -> list[float]:
        vectors = np.asarray(rt.store.embedder.embed(sentences), dtype=np.float32)
        return [float(v) for v in vectors @ np.asarray(embedded(), dtype=np.float32)]

    def generate(q: Question, hits: list[Hit]) -> str:
        return _generate(rt, claim, lease, hits, timings=timings)

    thresholds = Thresholds(
        min_relevance=rt.settings.answer_min_relevance,
        min_extractive_relevance=rt.settings.answer_min_extractive_relevance,
    )
    before, after = rt.responders()
    catalogs = {p.document_id for p in rt.products_for(claim.tenant_id)}
    return answer_question(
        question,
        responders_before=before,
        responders_after=after,
        quotable=lambda hit: hit.document_id not in catalogs,
        retrieve=retrieve,
        generate=generate if _composes(rt, claim.settings) else None,
        relevance=relevance,
        similar=similar if reads else None,
        thresholds=thresholds,
        # What the conversation already said may be repeated: the customer's words, and answers checked when sent.
        known=[claim.settings.business_name, *(turn.text for turn in claim.history)],
    )


def _generate(rt: runtime.Runtime, claim: TaskClaim, lease: LeaseKeeper, hits: list[Hit], *, timings: Timings) -> str:
    """The model's answer from the excerpts, streamed to partners as it comes; timings filled in."""
    llm = rt.llm_for(claim.settings)
    max_prompt_tokens, max_tokens = rt.token_budget(answer_tokens=claim.settings.max_answer_tokens)
    messages = build_messages(
        question=claim.text,
        hits=hits,
        history=claim.history,
        settings=claim.settings,
        language=claim.language,
        prompt=claim.prompt,
        max_prompt_tokens=max_prompt_tokens,
        count_tokens=rt.count_tokens,
    )
    stats = GenerationStats()
    generation_started = time.perf_counter()
    first_token_at: float | None = None
    pieces: list[str] = []
    publisher = TokenPublisher(rt.redis, task_id=claim.task_id, attempt=claim.attempt)
    temperature = claim.settings.temperature
    if isinstance(llm, ResilientLLM):
        # Streaming partners see every attempt's pieces as they come; the answer is the attempt that finished.
        generated = llm.stream(
            messages, max_tokens=max_tokens, temperature=temperature, stats=stats, live=publisher.live
        )
    else:
        generated = _published(
            llm.stream(messages, max_tokens=max_tokens, temperature=temperature, stats=stats), publisher
        )
    for piece in generated:
        if lease.lost:
            raise LeaseLost(claim.task_id)
        if first_token_at is None:
            first_token_at = time.perf_counter()
        pieces.append(piece)
    publisher.flush()
    finished = time.perf_counter()
    timings.generation_ms = round((finished - generation_started) * 1000, 1)
    timings.prompt_tokens = stats.prompt_tokens
    timings.completion_tokens = stats.completion_tokens
    timings.provider = stats.provider or llm.name
    timings.llm_attempts = stats.attempts
    # A provider chain hands tokens on once an attempt finished; it measured the first token.
    if stats.first_token_s is not None:
        first_token_at = generation_started + stats.first_token_s
    if first_token_at is not None:
        timings.time_to_first_token_ms = round((first_token_at - generation_started) * 1000, 1)
        decoding_s = finished - first_token_at
        if stats.completion_tokens > 1 and decoding_s > 0:
            timings.tokens_per_s = round((stats.completion_tokens - 1) / decoding_s, 2)
    # Clients render answers as Markdown/HTML: a `javascript:` (or any non-web) link keeps only its text.
    return strip_unsafe_links("".join(pieces).strip()).strip()


def _published(pieces: Iterator[str], publisher: TokenPublisher) -> Iterator[str]:
    for piece in pieces:
        publisher.add(piece)
        yield piece


@observed_job
def search_knowledge(tenant_id: str, query: str, top_k: int) -> dict[str, Any]:
    rt = runtime.current()
    result = rt.retriever.search(tenant_id, query, top_k)
    return SearchResponse(
        query=query,
        hits=[
            SearchHit(
                document=h.document, document_id=h.document_id, chunk_id=h.chunk_id, score=h.score, excerpt=h.text
            )
            for h in result.hits
        ],
        took_ms=round(result.took_ms, 2),
    ).model_dump()


@observed_job
def ingest_document(document_id: str) -> dict[str, Any]:
    rt = runtime.current()
    content = rt.gateway.document_content(document_id)
    if content is None or content.status == "deleting":
        return {"document_id": document_id, "outcome": "skipped"}
    try:
        outcome = ingest(
            rt.store,
            tenant_id=content.tenant_id,
            document_id=document_id,
            name=content.name,
            data=content.data,
            max_chars=rt.settings.chunk_max_chars,
            overlap=rt.settings.chunk_overlap_chars,
            progress=True,
            limits=parse_limits(rt.settings),
        )
    except UnreadableDocument as exc:  # DocumentOverLimit too: the reason is shown in the document's status
        rt.gateway.document_ingested(document_id, DocumentIngested(status="failed", error=str(exc)))
        return {"document_id": document_id, "outcome": "failed", "error": str(exc)}
    sync_document_pairs(rt.gateway, document_id=document_id, name=content.name, data=content.data)
    summary: dict[str, Any] = {"chunks": outcome.chunk_count, "added": outcome.added}
    removed = sync_products(rt.gateway, document_id=document_id, name=content.name, outcome=outcome)
    if removed is not None:
        summary.update(products=len(outcome.products or []), products_removed=removed)
    rt.knowledge_changed(content.tenant_id)
    rt.gateway.document_ingested(document_id, DocumentIngested(status="ready", chunk_count=outcome.chunk_count))
    return {"document_id": document_id, "outcome": "ready", **summary}


@observed_job
def delete_document(document_id: str, tenant_id: str) -> dict[str, Any]:
    rt = runtime.current()
    removed = rt.store.delete_document(tenant_id, document_id)
    remove_document_pairs(rt.gateway, document_id=document_id)
    rt.knowledge_changed(tenant_id)
    rt.gateway.document_deleted(document_id)
    return {"document_id": document_id, "removed_chunks": removed}
