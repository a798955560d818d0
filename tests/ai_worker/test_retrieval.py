"""Hybrid retrieval on the sample knowledge base with the real embedder, Chroma and BM25."""

from __future__ import annotations

from ai_worker.retrieval.hybrid import HybridRetriever, reciprocal_rank_fusion
from ai_worker.retrieval.store import Hit
from bench.quality import evaluate, load_questions


def hit(chunk_id: str) -> Hit:
    return Hit(chunk_id=chunk_id, text=chunk_id, document_id="d", document="d.md", score=0.0)


def test_rrf_rewards_agreement_between_rankings() -> None:
    fused = reciprocal_rank_fusion([[hit("a"), hit("b"), hit("c")], [hit("c"), hit("b"), hit("x")]])
    assert {h.chunk_id for h in fused[:2]} == {"b", "c"}
    assert {h.chunk_id for h in fused} == {"a", "b", "c", "x"}


def test_known_questions_find_their_chunk(sample_retriever: HybridRetriever) -> None:
    questions = load_questions()
    assert len(questions) >= 100
    quality = evaluate(sample_retriever, questions)
    print(f"hybrid: {quality}")
    assert quality.recall_at_5 >= 0.9, quality.misses
    assert quality.mrr >= 0.8


def test_delivery_question_finds_the_policy(sample_retriever: HybridRetriever) -> None:
    hits = sample_retriever.search("default", "Do you deliver to Abu Dhabi?", 4).hits
    assert hits[0].document == "delivery-and-returns.md"
    assert "Abu Dhabi" in hits[0].text


def test_sku_lookup_is_exact_and_beats_vector_only(sample_retriever: HybridRetriever) -> None:
    sku_questions = [q for q in load_questions() if q.document == "catalog.csv" and q.expect in q.question]
    assert len(sku_questions) >= 10
    hybrid = evaluate(sample_retriever, sku_questions)
    dense = evaluate(sample_retriever, sku_questions, dense_only=True)
    print(f"SKU questions: hybrid {hybrid}, vector-only {dense}")
    assert hybrid.recall_at_1 == 1.0, hybrid.misses
    assert hybrid.recall_at_1 > dense.recall_at_1


def test_other_tenants_see_nothing(sample_retriever: HybridRetriever) -> None:
    assert sample_retriever.search("another-tenant", "Do you deliver to Abu Dhabi?", 4).hits == []
