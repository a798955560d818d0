from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ai_worker.ingestion.pipeline import ingest
from ai_worker.retrieval.embeddings import SentenceTransformerEmbedder, bundled_embedding_model
from ai_worker.retrieval.hybrid import HybridRetriever
from ai_worker.retrieval.keyword import KeywordIndex
from ai_worker.retrieval.store import VectorStore, make_client
from parley_testkit.stack import SAMPLE_KB


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(bundled_embedding_model())


@pytest.fixture
def store(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> VectorStore:
    return VectorStore(make_client(path=str(tmp_path / "chroma"), url=None), embedder)


class Versions:
    """Stands in for the Redis counter the worker bumps after each change."""

    def __init__(self) -> None:
        self.value = 0

    def __call__(self, tenant_id: str) -> int:
        return self.value


@pytest.fixture(scope="session")
def sample_retriever(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Iterator[HybridRetriever]:
    """The sample knowledge base ingested once into a fresh Chroma store."""
    store = VectorStore(make_client(path=str(tmp_path_factory.mktemp("sample-chroma")), url=None), embedder)
    for path in sorted(SAMPLE_KB.iterdir()):
        if path.suffix in (".md", ".csv", ".pdf"):
            ingest(store, tenant_id="default", document_id=path.stem, name=path.name, data=path.read_bytes())
    yield HybridRetriever(store, KeywordIndex(store), version_of=Versions())
