"""The vector store: one Chroma collection per tenant, chunks keyed by content hash."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings

from ai_worker.retrieval.embeddings import SentenceTransformerEmbedder


@dataclass(frozen=True)
class Chunk:
    id: str
    text: str
    document_id: str
    document: str
    index: int


@dataclass
class Hit:
    chunk_id: str
    text: str
    document_id: str
    document: str
    score: float


def make_client(*, path: str | None, url: str | None) -> ClientAPI:
    """HttpClient when CHROMA_URL is set, else an embedded PersistentClient at `path`."""
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if url:
        parsed = urlparse(url)
        return chromadb.HttpClient(
            host=parsed.hostname or "localhost",
            port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            settings=settings,
        )
    if not path:
        raise ValueError("set CHROMA_PATH (embedded store) or CHROMA_URL (Chroma server)")
    return chromadb.PersistentClient(path=path, settings=settings)


def collection_name(tenant_id: str) -> str:
    return f"parley-{tenant_id}"


class VectorStore:
    def __init__(self, client: ClientAPI, embedder: SentenceTransformerEmbedder) -> None:
        self._client = client
        self.embedder = embedder
        self._collections: dict[str, Collection] = {}

    def collection(self, tenant_id: str) -> Collection:
        if tenant_id not in self._collections:
            self._collections[tenant_id] = self._client.get_or_create_collection(
                collection_name(tenant_id),
                embedding_function=self.embedder,  # type: ignore[arg-type]
                metadata={"hnsw:space": "cosine", "tenant_id": tenant_id},
            )
        return self._collections[tenant_id]

    def chunk_ids(self, tenant_id: str, document_id: str) -> set[str]:
        found = self.collection(tenant_id).get(where={"document_id": document_id}, include=[])
        return set(found["ids"])

    def add(self, tenant_id: str, chunks: Sequence[Chunk], *, progress: bool = False, batch: int = 256) -> None:
        collection = self.collection(tenant_id)
        for start in range(0, len(chunks), batch):
            part = chunks[start : start + batch]
            collection.upsert(
                ids=[c.id for c in part],
                documents=[c.text for c in part],
                embeddings=cast(Any, self.embedder.embed([c.text for c in part], progress=progress)),
                metadatas=[{"document_id": c.document_id, "document": c.document, "index": c.index} for c in part],
            )

    def delete(self, tenant_id: str, ids: Sequence[str]) -> None:
        if ids:
            self.collection(tenant_id).delete(ids=list(ids))

    def delete_document(self, tenant_id: str, document_id: str) -> int:
        ids = self.chunk_ids(tenant_id, document_id)
        self.delete(tenant_id, sorted(ids))
        return len(ids)

    def count(self, tenant_id: str) -> int:
        return self.collection(tenant_id).count()

    def all_chunks(self, tenant_id: str, *, page: int = 5000) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        """Every chunk of the tenant, read in pages (one huge read exceeds SQLite's variable limit)."""
        collection = self.collection(tenant_id)
        ids: list[str] = []
        texts: list[str] = []
        metadatas: list[dict[str, Any]] = []
        for offset in range(0, collection.count(), page):
            found = collection.get(include=["documents", "metadatas"], limit=page, offset=offset)
            ids.extend(found["ids"])
            texts.extend(d or "" for d in found["documents"] or [])
            metadatas.extend(dict(m or {}) for m in found["metadatas"] or [])
        return ids, texts, metadatas

    def similarities(self, tenant_id: str, query_embedding: Any, ids: Sequence[str]) -> dict[str, float]:
        """Cosine similarity of the query to specific chunks (embeddings are stored normalised)."""
        if not ids:
            return {}
        found = self.collection(tenant_id).get(ids=list(ids), include=["embeddings"])
        query = np.asarray(query_embedding, dtype=np.float32)
        return {
            chunk_id: float(np.dot(query, np.asarray(vector, dtype=np.float32)))
            for chunk_id, vector in zip(
                found["ids"], found["embeddings"] if found["embeddings"] is not None else [], strict=True
            )
        }

    def dense_search(self, tenant_id: str, query_embedding: Any, n: int) -> list[Hit]:
        collection = self.collection(tenant_id)
        total = collection.count()
        if total == 0:
            return []
        found = collection.query(
            query_embeddings=[query_embedding],
            n_results=min(n, total),
            include=["documents", "metadatas", "distances"],
        )
        hits = []
        for chunk_id, text, meta, distance in zip(
            found["ids"][0],
            (found["documents"] or [[]])[0],
            (found["metadatas"] or [[]])[0],
            (found["distances"] or [[]])[0],
            strict=True,
        ):
            hits.append(
                Hit(
                    chunk_id=chunk_id,
                    text=text or "",
                    document_id=str(meta.get("document_id", "")),
                    document=str(meta.get("document", "")),
                    score=1.0 - float(distance),
                )
            )
        return hits
