"""Everything a worker process loads once: embedder, vector store, keyword index, LLM, clients.

Built before the worker starts taking jobs and reached by the jobs through `current()`.
A model that fails to load does not stop the worker: its jobs fail with the stored reason and
the worker's status (read by the gateway's /ready) says why.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from redis import Redis

from ai_worker.answers.base import Responder
from ai_worker.answers.personal import PrivateResponder
from ai_worker.gateway_client import GatewayClient
from ai_worker.knowledge_cache import KnowledgeCache, knowledge_version
from ai_worker.language import detector
from ai_worker.llm.base import LLMError, LLMProvider
from ai_worker.llm.llamacpp import LlamaCppProvider
from ai_worker.llm.resilient import Resilience, ResilientLLM
from ai_worker.prompt import estimate_tokens
from ai_worker.retrieval.embeddings import bundled_embedding_model, load_embedder
from ai_worker.retrieval.hybrid import HybridRetriever
from ai_worker.retrieval.keyword import KeywordIndex
from ai_worker.retrieval.store import VectorStore, make_client
from ai_worker.settings import WorkerSettings
from parley_contract.names import KNOWLEDGE_VERSION_PREFIX
from parley_contract.products import ProductRow
from parley_contract.schemas import TenantSettings

log = logging.getLogger(__name__)

#: Room a local model's context keeps beyond the counted prompt and answer (chat-template tokens).
CONTEXT_MARGIN_TOKENS = 64


class StoreBusy(Exception):
    """Another process owns the embedded Chroma store."""


@dataclass
class Component:
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail}


@dataclass
class Runtime:
    settings: WorkerSettings
    redis: Redis
    gateway: GatewayClient
    store: VectorStore
    retriever: HybridRetriever
    llm: LLMProvider | None
    components: dict[str, Component] = field(default_factory=dict)
    lock: FileLock | None = None
    #: Each tenant's catalog rows, read from the gateway once per knowledge version.
    _products: KnowledgeCache[list[ProductRow]] = field(init=False)
    #: The ways of answering tried before and after retrieval (they keep per-tenant indexes): made on first use.
    _responders: tuple[list[Responder], list[Responder]] | None = None

    def __post_init__(self) -> None:
        self._products = KnowledgeCache(build=self.gateway.products, version_of=self.knowledge_version)

    def knowledge_version(self, tenant_id: str) -> int:
        return knowledge_version(self.redis, tenant_id)

    def knowledge_changed(self, tenant_id: str) -> None:
        """Tell every worker's keyword index, product rows and curated answers to rebuild for this tenant."""
        self.redis.incr(KNOWLEDGE_VERSION_PREFIX + tenant_id)

    def products_for(self, tenant_id: str) -> list[ProductRow]:
        """The tenant's catalog rows, read from the gateway once per knowledge version: another
        worker's ingestion bumps the version in Redis, so every worker reads the new rows."""
        return self._products.get(tenant_id)

    def responders(self) -> tuple[list[Responder], list[Responder]]:
        """The ways of answering tried before retrieval — a private request (own records, others'
        data), the catalog, curated answers — and after it, when the excerpts cannot answer (a named
        product's card) (DESIGN.md "How an answer is made"); built once per process."""
        if self._responders is None:
            # Imported here: both modules reach back to this one for the runtime's type and caches.
            from ai_worker.catalog.responder import CatalogResponder, ProductCards
            from ai_worker.curated.responder import curated_responder

            catalog = CatalogResponder(products_for=self.products_for)
            # A private request first: "when will my Marsa sofa arrive" is not a question about the Marsa sofa.
            self._responders = ([PrivateResponder(), catalog, curated_responder(self)], [ProductCards(catalog)])
        return self._responders

    def require_llm(self) -> LLMProvider:
        if self.llm is None:
            raise LLMError("; ".join(c.detail for name, c in self.components.items() if name.startswith("llm")))
        return self.llm

    def _local_model(self) -> LlamaCppProvider | None:
        providers = self.llm.providers if isinstance(self.llm, ResilientLLM) else [self.llm]
        return next((p for p in providers if isinstance(p, LlamaCppProvider)), None)

    def token_budget(self, *, answer_tokens: int) -> tuple[int, int]:
        """(prompt tokens, answer tokens) for a turn: LLM_MAX_PROMPT_TOKENS for the prompt, and, with a
        local model in the chain, both within its context (the answer gets at most half of it)."""
        prompt_tokens = self.settings.llm_max_prompt_tokens
        local = self._local_model()
        if local is None:
            return prompt_tokens, answer_tokens
        answer_tokens = min(answer_tokens, local.context_tokens // 2)
        return min(prompt_tokens, local.context_tokens - answer_tokens - CONTEXT_MARGIN_TOKENS), answer_tokens

    def count_tokens(self, text: str) -> int:
        """With the local model's tokenizer when the chain has one (its context is the tightest), else an estimate."""
        local = self._local_model()
        return local.count_tokens(text) if local is not None else estimate_tokens(text)

    def llm_for(self, settings: TenantSettings) -> LLMProvider:
        """The chain arranged for a tenant: its `provider` first, its `model` asked of hosted providers."""
        llm = self.require_llm()
        if settings.provider is None and settings.model is None:
            return llm
        chain = llm if isinstance(llm, ResilientLLM) else ResilientLLM([llm])
        return chain.arranged(lead=settings.provider, model=settings.model)

    def close(self) -> None:
        if self.llm is not None:
            self.llm.close()
        self.gateway.close()
        if self.lock is not None:
            self.lock.release()


_current: Runtime | None = None


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("the worker runtime is not loaded; run jobs with `python -m ai_worker worker`")
    return _current


def install(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


def default_worker_name() -> str:
    return f"parley-{socket.gethostname()}-{os.getpid()}"


def load_provider(settings: WorkerSettings, kind: str) -> tuple[LLMProvider | None, Component]:
    try:
        if kind == "openai":
            from ai_worker.llm.openai_compat import OpenAICompatibleProvider

            provider: LLMProvider = OpenAICompatibleProvider(
                base_url=settings.openai_base_url,
                api_key=settings.openai_api_key,
                model=settings.openai_model,
                timeout=settings.llm_timeout_seconds,
            )
            return provider, Component(True, f"openai-compatible {settings.openai_model} at {settings.openai_base_url}")
        from ai_worker.llm.llamacpp import LlamaCppProvider, bundled_model_path

        path = settings.llm_model_path or bundled_model_path()
        provider = LlamaCppProvider(
            model_path=Path(path), n_ctx=settings.llm_context_tokens, n_threads=settings.llm_threads
        )
        return provider, Component(True, f"llama.cpp {path}")
    except LLMError as exc:
        log.error("LLM %s unavailable: %s", kind, exc)
        return None, Component(False, str(exc))
    except Exception as exc:
        log.exception("LLM %s unavailable", kind)
        return None, Component(False, f"{type(exc).__name__}: {exc}")


def load_llm(settings: WorkerSettings) -> tuple[LLMProvider | None, dict[str, Component]]:
    """The configured provider, then its fallbacks, as one resilient chain."""
    providers: list[LLMProvider] = []
    components: dict[str, Component] = {}
    for position, kind in enumerate([settings.llm_provider, *settings.llm_fallback_providers]):
        provider, component = load_provider(settings, kind)
        components["llm" if position == 0 else f"llm_fallback_{position}"] = component
        if provider is not None:
            providers.append(provider)
    if not providers:
        return None, components
    resilience = Resilience(
        retries=settings.llm_retries,
        answer_timeout_seconds=settings.llm_answer_timeout_seconds,
        total_timeout_seconds=settings.llm_total_timeout_seconds,
        breaker_fail_max=settings.llm_breaker_fail_max,
        breaker_reset_seconds=settings.llm_breaker_reset_seconds,
    )
    return ResilientLLM(providers, resilience), components


def acquire_store_lock(settings: WorkerSettings) -> FileLock | None:
    """The embedded Chroma store is not multi-process safe: one owner at a time."""
    if settings.chroma_url:
        return None
    Path(settings.chroma_path).mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(Path(settings.chroma_path) / ".parley-owner.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout as exc:
        raise StoreBusy(
            f"another process (a running worker?) owns the embedded vector store at {settings.chroma_path}; "
            "stop it, upload through the API instead, or use a Chroma server (CHROMA_URL)"
        ) from exc
    return lock


def load(settings: WorkerSettings, *, with_llm: bool = True) -> Runtime:
    lock = acquire_store_lock(settings)
    model = settings.embedding_model or bundled_embedding_model()
    embedder = load_embedder(model, threads=settings.embedding_threads)
    store = VectorStore(make_client(path=settings.chroma_path, url=settings.chroma_url), embedder)
    redis = Redis.from_url(settings.redis_url, socket_timeout=10, socket_connect_timeout=5)
    components = {
        "embedder": Component(True, f"sentence-transformers {model}"),
        "vector_store": Component(True, settings.chroma_url or f"embedded Chroma at {settings.chroma_path}"),
    }
    llm: LLMProvider | None = None
    if with_llm:
        llm, llm_components = load_llm(settings)
        components.update(llm_components)
        if settings.answer_pipeline == "grounded":
            # Loaded now (seconds, once) rather than in the first customer's answer.
            detector()
            components["language"] = Component(True, "lingua language detector")
    runtime = Runtime(
        settings=settings,
        redis=redis,
        gateway=GatewayClient(base_url=settings.gateway_url, token=settings.worker_token),
        store=store,
        retriever=HybridRetriever(
            store,
            KeywordIndex(store),
            version_of=lambda tenant_id: knowledge_version(redis, tenant_id),
            candidates=settings.retrieval_candidates,
        ),
        llm=llm,
        components=components,
        lock=lock,
    )
    return runtime
