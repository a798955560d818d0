"""A worker answering through the `openai` provider, against a scripted OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.stack import SAMPLE_KB, Stack, running_stack
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeLLM]:
    fake = FakeLLM().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def openai_stack(tmp_path_factory: pytest.TempPathFactory, fake_llm: FakeLLM) -> Iterator[Stack]:
    with running_stack(
        name="openai",
        workdir=tmp_path_factory.mktemp("openai-stack"),
        redis_url=redis_url(dbs.OPENAI_PROVIDER),
        worker_env=fake_llm.worker_env,
    ) as stack:
        accepted = stack.upload(SAMPLE_KB / "delivery-and-returns.md")
        assert stack.wait_document(accepted["document_id"])["status"] == "ready"
        yield stack


def test_answer_comes_from_the_hosted_model_with_the_retrieved_excerpts(openai_stack: Stack, fake_llm: FakeLLM) -> None:
    fake_llm.add(Rule(when="Abu Dhabi", answer="Yes! Abu Dhabi delivery costs AED 150 and takes 2-4 working days."))
    task = openai_stack.ask("Do you deliver to Abu Dhabi?", wait=60)
    assert task["status"] == "done", task
    assert task["answer"] == "Yes! Abu Dhabi delivery costs AED 150 and takes 2-4 working days."
    request = fake_llm.requests[-1]
    assert request["stream"] is True and request["model"]
    system = request["messages"][0]
    assert (
        system["role"] == "system"
        and "Abu Dhabi" in system["content"]
        and '<excerpt id="1" source="' in system["content"]
    )
    assert request["messages"][-1] == {"role": "user", "content": "Do you deliver to Abu Dhabi?"}
    assert task["timings"]["prompt_tokens"] == 10


def test_a_transient_provider_error_is_retried(openai_stack: Stack, fake_llm: FakeLLM) -> None:
    fake_llm.add(Rule(when="gift card", status=503, times=1))
    task = openai_stack.ask("Do you sell gift cards?", wait=60)
    assert task["status"] == "done", task
    assert task["timings"]["provider"] == "openai" and task["timings"]["llm_attempts"] == 2


def test_a_failing_provider_fails_the_task_with_its_reason(openai_stack: Stack, fake_llm: FakeLLM) -> None:
    fake_llm.add(Rule(when="showroom parking", status=500))
    task = openai_stack.ask("Is there showroom parking?", wait=90)
    assert task["status"] == "failed"
    assert "every LLM provider failed" in task["error"]
    assert "HTTP 500" in task["error"] and "scripted failure" in task["error"]
