"""Footprint: ingestion throughput, worker start-up time and memory, gateway memory.

- Ingestion: the sample knowledge base through the worker's own pipeline (parse, chunk, embed with
  the bundled MiniLM, upsert into a fresh embedded Chroma) in this process; the model is loaded
  before the clock starts.
- Worker: `python -m ai_worker worker` with the default models (MiniLM + Gemma 3 270M through
  llama.cpp) against the tests' `start_stack` gateway; start-up is process start → `/ready` 200;
  resident memory (RSS, psutil) once ready and after one answer.
- Gateway: `python -m gateway serve` as its own process, RSS idle and after a number of messages.
"""

from __future__ import annotations

import time

import httpx
import psutil

from ai_worker.retrieval.embeddings import SentenceTransformerEmbedder, bundled_embedding_model
from ai_worker.retrieval.store import VectorStore, make_client
from bench.common import Section, cli, median, redis_url, start_gateway_process, workdir
from bench.retrieval import ingest_sample_kb
from parley_testkit.servers import wait_until
from parley_testkit.stack import TOKENS, start_stack


def rss_mib(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def run(quick: bool) -> Section:
    runs, messages = (1, 50) if quick else (3, 500)
    section = Section("5. Footprint", "python -m bench.footprint" + (" --quick" if quick else ""))
    embedder = SentenceTransformerEmbedder(bundled_embedding_model())
    ingestion = []
    chunks = 0
    for _ in range(runs):
        with workdir("ingest") as directory:
            store = VectorStore(make_client(path=str(directory / "chroma"), url=None), embedder)
            started = time.perf_counter()
            chunks = ingest_sample_kb(store)
            ingestion.append(chunks / (time.perf_counter() - started))
    startup, ready_rss, answered_rss = [], [], []
    with workdir("footprint") as directory:
        stack = start_stack(
            name="bench-footprint",
            workdir=directory,
            database_url=f"sqlite:///{directory / 'parley.db'}",
            redis_url=redis_url(),
        )
        try:
            for _ in range(runs):
                started = time.perf_counter()
                worker = stack.start_worker()
                stack.wait_ready(timeout=600)
                startup.append(time.perf_counter() - started)
                ready_rss.append(rss_mib(worker.proc.pid))
                task = stack.ask("Do you ship to Canada?", chat_id=f"footprint-{time.time_ns()}", wait=600)
                assert task["status"] == "done", task
                answered_rss.append(rss_mib(worker.proc.pid))
                worker.stop()
                wait_until(
                    lambda: httpx.get(f"{stack.url}/ready", timeout=5).status_code == 503,
                    timeout=120,
                    what="worker gone from /ready",
                )
        finally:
            stack.close()
    with workdir("gateway") as directory:
        gateway = start_gateway_process(directory)
        try:
            time.sleep(1)
            idle = gateway.rss_mib()
            with httpx.Client(base_url=gateway.url, headers={"Authorization": f"Bearer {TOKENS['service']}"}) as c:
                for i in range(messages):
                    c.post(
                        "/api/v1/messages",
                        json={"channel": "web", "chat_id": f"f{i}", "user": {"id": f"u{i}"}, "text": "hello"},
                        headers={"Idempotency-Key": f"footprint-{i}"},
                    ).raise_for_status()
            loaded = gateway.rss_mib()
        finally:
            gateway.stop()
    section.add(f"Medians over {runs} run(s).", "")
    section.table(
        ("figure", "value"),
        [
            (f"ingestion, sample knowledge base ({chunks} chunks)", f"{median(ingestion):.1f} chunks/s"),
            ("worker start-up (process start → /ready 200)", f"{median(startup):.1f} s"),
            ("worker RSS when ready (MiniLM + Gemma 3 270M)", f"{median(ready_rss):.0f} MiB"),
            ("worker RSS after one answer", f"{median(answered_rss):.0f} MiB"),
            ("gateway RSS idle (`python -m gateway serve`, SQLite)", f"{idle:.0f} MiB"),
            (f"gateway RSS after {messages} messages", f"{loaded:.0f} MiB"),
        ],
    )
    section.add(
        "The `/ready` wait polls every 0.2 s, so start-up is accurate to about that; the worker's "
        "/ready also needs its status heartbeat in Redis, which it writes right after loading the models.",
    )
    return section


if __name__ == "__main__":
    cli("footprint", run)
