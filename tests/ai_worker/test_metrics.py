"""The worker's Prometheus metrics (issue #5): jobs, tokens, latency, queue depth, LLM errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from prometheus_client import REGISTRY
from rq import Queue
from rq.serializers import JSONSerializer

from ai_worker.llm.base import GenerationStats, LLMError
from ai_worker.llm.openai_compat import OpenAICompatibleProvider
from ai_worker.llm.resilient import Resilience, ResilientLLM
from ai_worker.metrics import QueueDepthCollector, observed_job
from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.stack import Stack
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url
from tests.support.metrics import scrape

ANSWERS = {"job": "answer_task", "outcome": "done"}


def test_worker_metrics_move_with_an_answer(partner_stack: Stack) -> None:
    url = f"http://127.0.0.1:{partner_stack.worker_env['METRICS_PORT']}/metrics"
    tenant = partner_stack.new_tenant()
    key = partner_stack.new_key(tenant["id"], "messages:write", "tasks:read")
    before = scrape(url)

    accepted = partner_stack.client_with_key(key).post(
        "/api/v1/messages",
        json={"channel": "web", "chat_id": "worker-metrics", "user": {"id": "u1"}, "text": "Do you deliver?"},
    )
    assert accepted.status_code == 202, accepted.text
    task = partner_stack.wait_task(accepted.json()["task_id"], key=key)
    assert task["status"] == "done"

    after = scrape(url)
    assert after.value("parley_worker_jobs_total", **ANSWERS) == before.value("parley_worker_jobs_total", **ANSWERS) + 1
    job_time = "parley_worker_job_duration_seconds_count"
    assert after.value(job_time, job="answer_task") == before.value(job_time, job="answer_task") + 1
    # The scripted LLM reports 10 prompt tokens and one completion token per streamed piece.
    tokens_in = after.value("parley_worker_llm_tokens_total", provider="openai", direction="in") - before.value(
        "parley_worker_llm_tokens_total", provider="openai", direction="in"
    )
    tokens_out = after.value("parley_worker_llm_tokens_total", provider="openai", direction="out") - before.value(
        "parley_worker_llm_tokens_total", provider="openai", direction="out"
    )
    assert tokens_in == 10
    assert tokens_out >= 1
    generation = "parley_worker_generation_seconds_count"
    assert after.value(generation, provider="openai") == before.value(generation, provider="openai") + 1
    assert after.value("parley_worker_generation_seconds_sum", provider="openai") > before.value(
        "parley_worker_generation_seconds_sum", provider="openai"
    )
    retrieval = "parley_worker_retrieval_seconds_count"
    assert after.value(retrieval) == before.value(retrieval) + 1
    # Queue depth is read from Redis at scrape time, one series per queue the worker listens to.
    for queue in ("parley-high", "parley-answers", "parley-ingest"):
        assert ("parley_queue_jobs", frozenset({("queue", queue)})) in after.samples


@pytest.fixture
def queue_redis() -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url(dbs.METRICS))
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


def test_queue_depth_is_read_from_redis_at_scrape_time(queue_redis: redis.Redis) -> None:
    collector = QueueDepthCollector(queue_redis, queues=["obs-waiting", "obs-empty"])

    def depth() -> dict[tuple[str, str], float]:
        return {
            (sample.name, sample.labels["queue"]): sample.value
            for family in collector.collect()
            for sample in family.samples
        }

    assert depth()[("parley_queue_jobs", "obs-waiting")] == 0
    queue = Queue("obs-waiting", connection=queue_redis, serializer=JSONSerializer)
    for n in range(3):
        queue.enqueue("ai_worker.jobs.answer_task", f"task-{n}")
    found = depth()
    assert found[("parley_queue_jobs", "obs-waiting")] == 3
    assert found[("parley_queue_jobs", "obs-empty")] == 0
    assert found[("parley_queue_failed_jobs", "obs-waiting")] == 0


def test_a_redis_outage_leaves_the_queue_series_out_instead_of_failing_the_scrape() -> None:
    gone = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)  # nothing listens on port 1
    assert list(QueueDepthCollector(gone).collect()) == []


@pytest.fixture
def failing_llm() -> Iterator[FakeLLM]:
    fake = FakeLLM(default_answer="finally").start()
    yield fake
    fake.stop()


def errors(provider: str, reason: str) -> float:
    value = REGISTRY.get_sample_value("parley_worker_llm_errors_total", {"provider": provider, "reason": reason})
    return value or 0.0


def test_llm_errors_are_counted_by_provider(failing_llm: FakeLLM) -> None:
    failing_llm.add(Rule(when="Ajman", status=503, times=2))
    chain = ResilientLLM(
        [OpenAICompatibleProvider(base_url=failing_llm.url, api_key="k", model="m", timeout=5)],
        Resilience(retries=2, answer_timeout_seconds=5, backoff_initial_seconds=0.01),
    )
    before = errors("openai", "failed")
    stats = GenerationStats()
    answer = "".join(chain.stream([{"role": "user", "content": "Ajman?"}], max_tokens=10, temperature=0, stats=stats))
    assert answer == "finally"
    assert errors("openai", "failed") == before + 2


def test_jobs_are_counted_by_outcome() -> None:
    @observed_job
    def obs_probe(outcome: str) -> dict[str, Any]:
        if outcome == "raise":
            raise LLMError("boom")
        return {"outcome": outcome}

    def count(outcome: str) -> float:
        value = REGISTRY.get_sample_value("parley_worker_jobs_total", {"job": "obs_probe", "outcome": outcome})
        return value or 0.0

    obs_probe("failed")
    obs_probe("skipped")
    with pytest.raises(LLMError):
        obs_probe("raise")
    assert (count("failed"), count("skipped"), count("error"), count("done")) == (1, 1, 1, 0)
