"""A hosted LLM that hangs or fails, seen by a WhatsApp customer: the local model behind it answers,
or, with nothing behind it, the apology arrives within LLM_TOTAL_TIMEOUT_SECONDS.

Real parts: gateway, worker process (hosted provider → bundled llama.cpp model), its own Redis, the
WhatsApp adapter process. Replaced: the hosted LLM (a scripted OpenAI-compatible server that keeps its
stream alive with comments, as OpenRouter does while a model is queued, or answers 500) and Wazzup24.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from parley_contract.names import DEFAULT_TENANT_ID, reply_stream
from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.stack import Stack, running_stack
from parley_testkit.wazzup_emulator import WazzupEmulator
from tests.support.redis_server import RedisServer
from tests.support.whatsapp import Adapter, adapter_env, new_chat
from whatsapp_adapter.settings import WhatsAppSettings

pytestmark = pytest.mark.fault

#: Without a fallback: the whole answer's cap the customer's apology must meet.
TOTAL_TIMEOUT_SECONDS = 6
#: What the apology may take beyond the cap: the task's failure, its reply event and the adapter's send.
DELIVERY_SLACK_SECONDS = 15
#: How long the hosted model keeps the line busy without a token (far beyond every cap).
HANG_SECONDS = 120


@pytest.fixture(scope="module")
def hosted() -> Iterator[FakeLLM]:
    fake = FakeLLM(default_answer="The hosted model's answer.").start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def own_redis() -> Iterator[RedisServer]:
    """A server of its own: every database of the shared Redis belongs to another test module."""
    server = RedisServer()
    server.start()
    yield server
    server.destroy()


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory: pytest.TempPathFactory, hosted: FakeLLM, own_redis: RedisServer) -> Iterator[Stack]:
    with running_stack(
        name="llm-faults",
        workdir=tmp_path_factory.mktemp("llm-faults"),
        redis_url=own_redis.url,
        worker_env={
            **hosted.worker_env,
            "LLM_FALLBACK_PROVIDERS": '["llamacpp"]',
            "LLM_RETRIES": "2",
            "LLM_TIMEOUT_SECONDS": "30",
            # Per attempt, the local fallback's too: 10 s lets a loaded 2-core CI machine's Gemma finish (4 s did not).
            "LLM_ANSWER_TIMEOUT_SECONDS": "10",
            "LLM_TOTAL_TIMEOUT_SECONDS": "120",
            # Each test's failures on their own: the breaker is tested in tests/ai_worker/test_resilient_llm.py.
            "LLM_BREAKER_FAIL_MAX": "1000",
        },
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def emulator() -> Iterator[WazzupEmulator]:
    emulator = WazzupEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def adapter(
    fault_stack: Stack, emulator: WazzupEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Adapter]:
    adapter = Adapter(env=adapter_env(fault_stack, emulator), workdir=tmp_path_factory.mktemp("adapter")).start()
    adapter.register_with(emulator)
    yield adapter
    adapter.stop()
    print(adapter.log())


def task_of(stack: Stack, chat_id: str) -> dict[str, Any]:
    """The finished task of the only message of a WhatsApp chat (found by its reply event)."""
    connection = redis.Redis.from_url(stack.settings.redis_url, decode_responses=True)
    try:
        entries: Any = connection.xrange(reply_stream("whatsapp"))
    finally:
        connection.close()
    [event] = [e for e in (json.loads(fields["event"]) for _id, fields in entries) if e["chat_id"] == chat_id]
    task: dict[str, Any] = stack.wait_task(event["task_id"])
    return task


def test_a_hosted_model_that_keeps_the_line_busy_is_cut_and_the_local_model_answers(
    fault_stack: Stack, adapter: Adapter, emulator: WazzupEmulator, hosted: FakeLLM
) -> None:
    hosted.add(Rule(when="assembly service", answer="Too late.", keepalive_seconds=HANG_SECONDS))
    asked_before = len(hosted.requests)
    chat = new_chat()
    emulator.customer_writes(chat, "Do you offer an assembly service for wardrobes?")
    [message] = emulator.wait_sent(chat, timeout=180)
    assert message["text"].strip() and message["text"] != WhatsAppSettings(_env_file=None).apology_text
    task = task_of(fault_stack, chat)
    assert task["status"] == "done" and task["answer"].strip()
    assert task["timings"]["provider"] == "llamacpp", task["timings"]
    assert len(hosted.requests) - asked_before == 1  # a timed-out attempt is not retried: the next provider is
    # A later customer's answer delivered: any second reply to the first chat, queued before it, was too.
    marker = new_chat()
    emulator.customer_writes(marker, "Thanks!")
    emulator.wait_sent(marker, timeout=60)
    assert len(emulator.sent_to(chat)) == 1


def test_a_hosted_model_answering_500_is_retried_then_the_local_model_answers(
    fault_stack: Stack, adapter: Adapter, emulator: WazzupEmulator, hosted: FakeLLM
) -> None:
    hosted.add(Rule(when="mattress", status=500))
    asked_before = len(hosted.requests)
    chat = new_chat()
    emulator.customer_writes(chat, "How firm is the Oasis mattress?")
    [message] = emulator.wait_sent(chat, timeout=180)
    assert message["text"] != WhatsAppSettings(_env_file=None).apology_text
    task = task_of(fault_stack, chat)
    assert task["status"] == "done" and task["timings"]["provider"] == "llamacpp"
    assert task["timings"]["llm_attempts"] == 1 and len(hosted.requests) - asked_before == 3  # LLM_RETRIES=2


def test_with_nothing_behind_a_hanging_model_the_apology_arrives_within_the_cap(
    fault_stack: Stack, adapter: Adapter, emulator: WazzupEmulator, hosted: FakeLLM
) -> None:
    assert fault_stack.worker is not None
    fault_stack.worker.stop()
    fault_stack.start_worker(LLM_FALLBACK_PROVIDERS="[]", LLM_TOTAL_TIMEOUT_SECONDS=str(TOTAL_TIMEOUT_SECONDS))
    fault_stack.wait_ready()
    hosted.add(Rule(when="gift card", answer="Too late.", keepalive_seconds=HANG_SECONDS))
    chat = new_chat()
    started = time.monotonic()
    emulator.customer_writes(chat, "Can I buy a gift card?")
    [message] = emulator.wait_sent(chat, timeout=HANG_SECONDS)
    took = time.monotonic() - started
    assert message["text"] == WhatsAppSettings(_env_file=None).apology_text
    # The cap is a promise to the customer (without it they would wait HANG_SECONDS or more), not a speed figure.
    assert took < TOTAL_TIMEOUT_SECONDS + DELIVERY_SLACK_SECONDS, took
    task = task_of(fault_stack, chat)
    assert task["status"] == "failed" and "every LLM provider failed" in task["error"]
    assert "timed out" in task["error"]
    # Visible to the business's staff in the admin API.
    failed = fault_stack.client("admin").get(f"/api/v1/admin/tenants/{DEFAULT_TENANT_ID}/tasks/failed").json()
    assert task["task_id"] in [item["task_id"] for item in failed["items"]]
