"""Retrieval quality on the labelled question set: recall@1, recall@5 and MRR."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ai_worker.retrieval.hybrid import HybridRetriever

QUESTIONS = Path(__file__).resolve().parent / "data" / "questions.jsonl"


@dataclass
class Question:
    id: str
    question: str
    document: str
    expect: str


@dataclass
class Quality:
    questions: int
    recall_at_1: float
    recall_at_5: float
    mrr: float
    misses: list[str]


def load_questions(path: Path = QUESTIONS) -> list[Question]:
    return [Question(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def first_relevant_rank(retriever: HybridRetriever, q: Question, *, tenant_id: str, dense_only: bool) -> int | None:
    hits = retriever.search(tenant_id, q.question, 10, dense_only=dense_only).hits
    for rank, hit in enumerate(hits, start=1):
        if hit.document == q.document and q.expect in hit.text:
            return rank
    return None


def evaluate(
    retriever: HybridRetriever, questions: list[Question], *, tenant_id: str = "default", dense_only: bool = False
) -> Quality:
    ranks = [first_relevant_rank(retriever, q, tenant_id=tenant_id, dense_only=dense_only) for q in questions]
    n = len(questions)
    return Quality(
        questions=n,
        recall_at_1=sum(1 for r in ranks if r == 1) / n,
        recall_at_5=sum(1 for r in ranks if r is not None and r <= 5) / n,
        mrr=sum(1 / r for r in ranks if r is not None) / n,
        misses=[q.id for q, r in zip(questions, ranks, strict=True) if r is None or r > 5],
    )
