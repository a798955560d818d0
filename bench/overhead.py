"""Overhead over the model: POST → answer stored through gateway + worker, next to the same
prompt generated directly with llama-cpp-python in this process.

The stack is the tests' `running_stack` (migrated SQLite gateway in a thread, one real worker
process with the bundled Gemma 3 270M through llama.cpp, the sample knowledge base uploaded
through the API). The tenant's temperature is set to 0 so both sides generate the same tokens.
The direct side builds the prompt with the worker's own functions (the same ingestion pipeline
into its own Chroma directory, `HybridRetriever`, `build_messages`) and generates with the
worker's own `LlamaCppProvider` (same GGUF, same context size, threads and repeat penalty); only
the generation is timed there. The two sides alternate question by question.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from ai_worker.llm.base import GenerationStats
from ai_worker.llm.llamacpp import LlamaCppProvider, bundled_model_path
from ai_worker.prompt import build_messages
from ai_worker.retrieval.embeddings import SentenceTransformerEmbedder, bundled_embedding_model
from ai_worker.retrieval.hybrid import HybridRetriever
from ai_worker.retrieval.keyword import KeywordIndex
from ai_worker.retrieval.store import VectorStore, make_client
from bench.common import PLOTS, SAMPLE_KB, Section, bar_plot, cli, median, percentile, redis_url, workdir
from bench.quality import load_questions
from bench.retrieval import ingest_sample_kb
from parley_contract.schemas import TenantSettings
from parley_testkit.stack import Stack, running_stack

LLM_THREADS = 2


def set_tenant_settings(stack: Stack, **values: Any) -> TenantSettings:
    """Write the default tenant's settings in the gateway's SQLite file (there is no admin API yet)."""
    path = stack.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        (raw,) = db.execute("SELECT settings FROM tenant WHERE id = ?", (stack.settings.default_tenant_id,)).fetchone()
        merged = {**(json.loads(raw) if isinstance(raw, str) else raw or {}), **values}
        db.execute(
            "UPDATE tenant SET settings = ? WHERE id = ?", (json.dumps(merged), stack.settings.default_tenant_id)
        )
    return TenantSettings.model_validate(merged)


def run(quick: bool) -> Section:
    n_questions, rounds = (2, 1) if quick else (6, 2)
    section = Section("2. Overhead over the model", "python -m bench.overhead" + (" --quick" if quick else ""))
    questions = load_questions()[:: max(len(load_questions()) // n_questions, 1)][:n_questions]
    e2e: list[float] = []
    direct: list[float] = []
    parts: dict[str, list[float]] = {"queue_wait_ms": [], "retrieval_ms": [], "generation_ms": []}
    same = 0
    tokens: list[int] = []
    with (
        workdir("overhead") as directory,
        running_stack(
            name="bench-overhead",
            workdir=directory,
            redis_url=redis_url(),
            worker_env={"LLM_THREADS": str(LLM_THREADS)},
        ) as stack,
    ):
        for path in sorted(SAMPLE_KB.iterdir()):
            stack.wait_document(stack.upload(path)["document_id"])
        settings = set_tenant_settings(stack, temperature=0.0)
        store = VectorStore(
            make_client(path=str(directory / "direct-chroma"), url=None),
            SentenceTransformerEmbedder(bundled_embedding_model()),
        )
        ingest_sample_kb(store)
        retriever = HybridRetriever(store, KeywordIndex(store), version_of=lambda tenant_id: 0)
        llm = LlamaCppProvider(model_path=bundled_model_path(), n_ctx=4096, n_threads=LLM_THREADS)
        try:
            stack.ask("warm-up question: do you ship abroad?", chat_id="warm-up", wait=300)
            list(
                llm.stream(
                    [{"role": "user", "content": "warm-up"}], max_tokens=8, temperature=0, stats=GenerationStats()
                )
            )
            for round_no in range(rounds):
                for i, q in enumerate(questions):
                    started = time.perf_counter()
                    task = stack.ask(q.question, chat_id=f"bench-{round_no}-{i}", wait=600)
                    e2e.append((time.perf_counter() - started) * 1000)
                    assert task["status"] == "done", task
                    timings = task.get("timings") or {}
                    for key in parts:
                        if timings.get(key) is not None:
                            parts[key].append(float(timings[key]))
                    hits = retriever.search("default", q.question, settings.top_k).hits
                    messages = build_messages(
                        question=q.question, hits=hits, history=[], settings=settings, language=None
                    )
                    stats = GenerationStats()
                    started = time.perf_counter()
                    answer = "".join(
                        llm.stream(
                            messages,
                            max_tokens=settings.max_answer_tokens,
                            temperature=settings.temperature,
                            stats=stats,
                        )
                    ).strip()
                    direct.append((time.perf_counter() - started) * 1000)
                    tokens.append(stats.completion_tokens)
                    same += answer == (task.get("answer") or "").strip()
        finally:
            llm.close()
    rows = []
    for pct in (50, 95):
        a, b = percentile(e2e, pct), percentile(direct, pct)
        rows.append((f"p{pct}", f"{a:.0f}", f"{b:.0f}", f"{a - b:.0f}", f"{a / b:.2f}"))
    section.add(
        f"{len(e2e)} answers ({len(questions)} labelled questions × {rounds} round(s), each in a new chat), "
        f"llama.cpp with {LLM_THREADS} threads on both sides, temperature 0, max {TenantSettings().max_answer_tokens} "
        f"answer tokens (median {median(tokens):.0f} generated). Identical answers on both sides: "
        f"**{same}/{len(e2e)}**.",
        "",
    )
    section.table(("percentile", "Parley end to end ms", "direct llama.cpp ms", "overhead ms", "ratio"), rows)
    breakdown = [(key, f"{median(v):.1f}") for key, v in parts.items() if v]
    section.add("Where the end-to-end time goes (medians of the worker's own task timings):", "")
    section.table(("stage", "median ms"), breakdown)
    ratios = {pct: percentile(e2e, pct) / percentile(direct, pct) for pct in (50, 95)}
    above = [f"p{pct} ({ratio:.2f})" for pct, ratio in ratios.items() if ratio > 1.10]
    if above:
        section.add(
            f"The ratio at {' and '.join(above)} is above 1.10. With {len(e2e)} answers one or two slow ones "
            "decide a high percentile, so on a loaded machine part of it can be load that hit one side and not "
            "the other (the two sides alternate, they do not run at once). What Parley adds for certain is in "
            "the stage timings above: retrieval (embedding the question and the BM25 + Chroma queries) runs "
            "before generation on the same cores, plus the queue wait and the gateway round trips. What would "
            "fix it: cheaper retrieval (a quantised or ONNX question embedder, cached embeddings of repeated "
            "questions), and a run on an idle machine to separate load noise from Parley's cost.",
            "",
        )
    section.plots.append(
        bar_plot(
            PLOTS / "overhead.png",
            "Answer time p50 (ms)",
            ["Parley end to end", "direct llama.cpp"],
            [percentile(e2e, 50), percentile(direct, 50)],
            "ms",
        )
    )
    return section


if __name__ == "__main__":
    cli("overhead", run)
