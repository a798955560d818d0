"""`make bench` (first part): retrieval quality and latency on the sample knowledge base.

Hybrid retrieval next to a plain vector-only Chroma query with the same embedding model, on the
labelled questions in bench/data/questions.jsonl. The full benchmark suite is issue #6.
"""

from __future__ import annotations

import platform
import statistics
import tempfile
import time
from pathlib import Path

from ai_worker.ingestion.pipeline import ingest
from ai_worker.retrieval.embeddings import SentenceTransformerEmbedder, bundled_embedding_model
from ai_worker.retrieval.hybrid import HybridRetriever
from ai_worker.retrieval.keyword import KeywordIndex
from ai_worker.retrieval.store import VectorStore, make_client
from bench.quality import evaluate, load_questions

SAMPLE_KB = Path(__file__).resolve().parent.parent / "sample_kb"


def main() -> None:
    embedder = SentenceTransformerEmbedder(bundled_embedding_model())
    with tempfile.TemporaryDirectory() as chroma:
        store = VectorStore(make_client(path=chroma, url=None), embedder)
        for path in sorted(SAMPLE_KB.iterdir()):
            ingest(store, tenant_id="default", document_id=path.stem, name=path.name, data=path.read_bytes())
        retriever = HybridRetriever(store, KeywordIndex(store), version_of=lambda tenant_id: 0)
        questions = load_questions()
        print(f"machine: {platform.machine()}, {platform.python_version()}, chunks: {store.count('default')}")
        print("| retrieval | questions | recall@1 | recall@5 | MRR | p50 ms | p99 ms |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for label, dense_only in (("hybrid (dense + BM25, RRF)", False), ("vector-only Chroma", True)):
            quality = evaluate(retriever, questions, dense_only=dense_only)
            latencies = []
            for q in questions:
                started = time.perf_counter()
                retriever.search("default", q.question, 5, dense_only=dense_only)
                latencies.append((time.perf_counter() - started) * 1000)
            p99 = statistics.quantiles(latencies, n=100)[98]
            print(
                f"| {label} | {quality.questions} | {quality.recall_at_1:.3f} | {quality.recall_at_5:.3f} "
                f"| {quality.mrr:.3f} | {statistics.median(latencies):.1f} | {p99:.1f} |"
            )


if __name__ == "__main__":
    main()
