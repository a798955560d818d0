"""BM25 over a tenant's chunks (bm25s), rebuilt when the tenant's knowledge version changes.

The chunks themselves live in Chroma; this index is derived from them, so every worker
process can rebuild it and none has to own it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import bm25s
import numpy as np

from ai_worker.retrieval.analysis import Analyser, analyse
from ai_worker.retrieval.store import Hit, VectorStore


@dataclass
class _TenantIndex:
    version: int
    retriever: bm25s.BM25 | None
    ids: list[str]
    texts: list[str]
    metadatas: list[dict[str, Any]]
    positions: dict[str, int]


class KeywordIndex:
    def __init__(self, store: VectorStore, *, analyser: Analyser = analyse) -> None:
        # One analyser for the chunks and the queries (bm25s's own tokenizer and stemmer are not
        # used): a term only matches if both sides were folded and stemmed the same way.
        self._store = store
        self._analyser = analyser
        self._indexes: dict[str, _TenantIndex] = {}
        self._lock = threading.Lock()

    def _index(self, tenant_id: str, version: int) -> _TenantIndex:
        with self._lock:
            current = self._indexes.get(tenant_id)
            if current is not None and current.version == version:
                return current
            ids, texts, metadatas = self._store.all_chunks(tenant_id)
            retriever = None
            if texts:
                retriever = bm25s.BM25()
                retriever.index([self._analyser(text) for text in texts], show_progress=False)
            positions = {chunk_id: i for i, chunk_id in enumerate(ids)}
            index = _TenantIndex(version, retriever, ids, texts, metadatas, positions)
            self._indexes[tenant_id] = index
            return index

    def scores(self, tenant_id: str, query: str, *, version: int) -> dict[str, float]:
        """BM25 score of every chunk of the tenant that shares a term with the query."""
        index = self._index(tenant_id, version)
        if index.retriever is None:
            return {}
        query_ids = index.retriever.get_tokens_ids(self._analyser(query))
        if not query_ids:
            return {}
        all_scores = index.retriever.get_scores_from_ids(query_ids)
        matching = np.flatnonzero(all_scores > 0)
        return {index.ids[int(i)]: float(all_scores[i]) for i in matching}

    def search(self, tenant_id: str, query: str, n: int, *, version: int) -> tuple[list[Hit], dict[str, float]]:
        """The best `n` chunks, and the scores of all chunks that match at all."""
        index = self._index(tenant_id, version)
        scores = self.scores(tenant_id, query, version=version)
        best = sorted(scores, key=lambda chunk_id: scores[chunk_id], reverse=True)[:n]
        hits = []
        for chunk_id in best:
            position = index.positions[chunk_id]
            meta = index.metadatas[position]
            hits.append(
                Hit(
                    chunk_id=chunk_id,
                    text=index.texts[position],
                    document_id=str(meta.get("document_id", "")),
                    document=str(meta.get("document", "")),
                    score=scores[chunk_id],
                )
            )
        return hits, scores
