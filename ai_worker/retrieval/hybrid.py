"""Hybrid retrieval: dense (Chroma) and keyword (BM25) rankings fused by reciprocal rank.

Each list brings its best candidates; every candidate is then ranked in *both* lists (its
similarity and its BM25 score are looked up when the other list did not bring it), so a chunk
that only one side found still earns its true place on the other side. Without that, an exact
SKU match that the embedding misses scores no better than the embedding's 20th guess.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from ai_worker.retrieval.keyword import KeywordIndex
from ai_worker.retrieval.store import Hit, VectorStore

#: The usual RRF constant: ranks deep in either list still count, but little.
RRF_K = 60

#: Product codes, order numbers, model names: a token with a digit, hyphenated parts allowed.
IDENTIFIER = re.compile(r"\b(?=[\w-]*\d)[A-Za-z0-9]+(?:[-_/.][A-Za-z0-9]+)*\b")


def identifiers(query: str) -> list[str]:
    """Codes in the query worth an exact match (at least 4 characters, letters and digits)."""
    return [m for m in IDENTIFIER.findall(query) if len(m) >= 4 and not m.isdigit()]


def promote_exact_matches(hits: list[Hit], codes: list[str]) -> list[Hit]:
    """Chunks containing every code of the query verbatim go first, in their fused order.

    Rank fusion flattens BM25's margin: an exact SKU that the embedding ranks poorly would
    otherwise lose to chunks both lists find mediocre. A customer who types a code means it.
    """
    if not codes:
        return hits
    lowered = [c.lower() for c in codes]
    exact = [h for h in hits if all(c in h.text.lower() for c in lowered)]
    return exact + [h for h in hits if h not in exact]


def reciprocal_rank_fusion(rankings: list[list[Hit]], *, k: int = RRF_K) -> list[Hit]:
    fused: dict[str, Hit] = {}
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            fused.setdefault(hit.chunk_id, hit)
            scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + 1.0 / (k + rank)
    ordered = sorted(scores, key=lambda chunk_id: scores[chunk_id], reverse=True)
    return [replace(fused[c], score=round(scores[c], 6)) for c in ordered]


@dataclass
class RetrievalResult:
    hits: list[Hit]
    took_ms: float


class HybridRetriever:
    def __init__(
        self, store: VectorStore, keywords: KeywordIndex, *, version_of: Callable[[str], int], candidates: int = 20
    ) -> None:
        self._store = store
        self._keywords = keywords
        self._version_of = version_of
        self._candidates = candidates

    def search(
        self, tenant_id: str, query: str, top_k: int, *, dense_only: bool = False, dense_query: str | None = None
    ) -> RetrievalResult:
        """The best `top_k` chunks for `query`; `dense_query`, when given, is what the embedder reads
        instead (the English bridge of a question it cannot read)."""
        started = time.perf_counter()
        n = max(self._candidates, top_k)
        embedding = self._store.embedder.embed([dense_query or query])[0]
        dense = self._store.dense_search(tenant_id, embedding, n)
        if dense_only:
            return RetrievalResult(hits=dense[:top_k], took_ms=(time.perf_counter() - started) * 1000)
        keyword, keyword_scores = self._keywords.search(tenant_id, query, n, version=self._version_of(tenant_id))
        dense_ids = {h.chunk_id for h in dense}
        keyword_ids = {h.chunk_id for h in keyword}
        similarity = self._store.similarities(
            tenant_id, embedding, [h.chunk_id for h in keyword if h.chunk_id not in dense_ids]
        )
        dense_full = dense + [
            replace(h, score=similarity.get(h.chunk_id, -1.0)) for h in keyword if h.chunk_id not in dense_ids
        ]
        keyword_full = keyword + [
            replace(h, score=keyword_scores[h.chunk_id])
            for h in dense
            if h.chunk_id not in keyword_ids and h.chunk_id in keyword_scores
        ]
        dense_full.sort(key=lambda h: h.score, reverse=True)
        keyword_full.sort(key=lambda h: h.score, reverse=True)
        fused = reciprocal_rank_fusion([dense_full, keyword_full])
        hits = promote_exact_matches(fused, identifiers(query))[:top_k]
        return RetrievalResult(hits=hits, took_ms=(time.perf_counter() - started) * 1000)
