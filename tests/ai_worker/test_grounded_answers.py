"""The grounded pipeline through the real worker: real retrieval over the sample knowledge base, a
scripted OpenAI-compatible model (the one outside service replaced), the real gateway.

A model that states a wrong price, continues the transcript or is asked about nothing the
business knows never reaches the customer: the stored answer is the business's own sentences or
the honest fallback, the task says which path made it and whether a person must reply."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from ai_worker.answers.texts import FALLBACK, LEAD_IN
from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.servers import free_port
from parley_testkit.stack import SAMPLE_KB, Stack, running_stack
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url
from tests.support.metrics import scrape


@pytest.fixture(scope="module")
def grounded_llm() -> Iterator[FakeLLM]:
    fake = FakeLLM(default_answer="Thank you for your message!").start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def grounded_stack(tmp_path_factory: pytest.TempPathFactory, grounded_llm: FakeLLM) -> Iterator[Stack]:
    """SQLite gateway, Redis database 13, one worker on the grounded pipeline, the sample KB uploaded."""
    with running_stack(
        name="grounded",
        workdir=tmp_path_factory.mktemp("grounded-stack"),
        redis_url=redis_url(dbs.GROUNDED),
        worker_env={**grounded_llm.worker_env, "ANSWER_PIPELINE": "grounded", "METRICS_PORT": str(free_port())},
    ) as stack:
        uploaded = [stack.upload(p) for p in sorted(SAMPLE_KB.iterdir()) if p.suffix in (".md", ".csv", ".pdf")]
        for accepted in uploaded:
            assert stack.wait_document(accepted["document_id"])["status"] == "ready"
        yield stack


def ask(stack: Stack, text: str, *, language: str | None = None) -> dict[str, Any]:
    chat_id = f"grounded-{uuid.uuid4().hex[:8]}"
    user: dict[str, Any] = {"id": f"u-{chat_id}"} | ({"language": language} if language else {})
    accepted = stack.client().post(
        "/api/v1/messages", json={"channel": "web", "chat_id": chat_id, "user": user, "text": text}
    )
    assert accepted.status_code == 202, accepted.text
    task = stack.wait_task(accepted.json()["task_id"], wait=120)
    assert task["status"] == "done", task
    return task


def scripted(llm: FakeLLM, when: str, answer: str) -> Rule:
    rule = Rule(when=when, answer=answer)
    llm.add(rule)
    return rule


def asked_the_model(llm: FakeLLM, marker: str) -> bool:
    return any(marker in r["messages"][-1]["content"] for r in llm.requests)


def test_a_wrong_price_from_the_model_never_reaches_the_customer(grounded_stack: Stack, grounded_llm: FakeLLM) -> None:
    scripted(grounded_llm, "3000 dirham", "Yes, cash on delivery is available for orders up to AED 3,500.")
    task = ask(grounded_stack, "Can I pay cash on delivery for a 3000 dirham order?")

    assert asked_the_model(grounded_llm, "3000 dirham")  # the model answered; its answer failed the check
    assert "3,500" not in task["answer"] and "3500" not in task["answer"]
    assert task["timings"]["answer_path"] == "extractive", task
    assert task["answer"].startswith(LEAD_IN["en"]) and "AED 2,500" in task["answer"]
    assert task["needs_person"] is False
    # The payment FAQ's sentences; the cancellation section's "cancel within 48 hours of paying" is not one.
    assert [s["document"] for s in task["sources"]] == ["faq.md"] and "48 hours" not in task["answer"]
    # The partner's read of the task says the same (GET /api/v1/tasks/{id}).
    again = grounded_stack.client().get(f"/api/v1/tasks/{task['task_id']}").json()
    assert (again["timings"]["answer_path"], again["needs_person"], again["answer"]) == (
        "extractive",
        False,
        task["answer"],
    )


def test_a_grounded_model_answer_is_delivered_as_written(grounded_stack: Stack, grounded_llm: FakeLLM) -> None:
    written = "Yes, we deliver to Abu Dhabi: AED 150 per order, 2–4 working days, free over AED 3,000."
    scripted(grounded_llm, "deliver to Abu Dhabi", written)
    task = ask(grounded_stack, "Do you deliver to Abu Dhabi?")
    assert (task["answer"], task["timings"]["answer_path"], task["needs_person"]) == (written, "generated", False)
    assert any(s["document"] == "delivery-and-returns.md" for s in task["sources"])
    assert task["timings"]["generation_ms"] > 0 and task["timings"]["retrieval_ms"] > 0


def test_a_transcript_continuation_is_replaced(grounded_stack: Stack, grounded_llm: FakeLLM) -> None:
    scripted(grounded_llm, "warranty on a sofa frame", "10 years.\ncustomer: and the fabric?\nassistant: 2 years")
    task = ask(grounded_stack, "How long is the warranty on a sofa frame?")
    assert task["timings"]["answer_path"] in ("extractive", "fallback"), task
    assert "customer:" not in task["answer"] and "10 years" not in task["answer"]


def test_a_question_nothing_in_the_knowledge_answers_gets_the_fallback(
    grounded_stack: Stack, grounded_llm: FakeLLM
) -> None:
    metrics = f"http://127.0.0.1:{grounded_stack.worker_env['METRICS_PORT']}/metrics"
    before = scrape(metrics).value("parley_worker_answers_total", path="fallback")
    scripted(grounded_llm, "used cars", "Yes, we sell used cars.")

    task = ask(grounded_stack, "Do you sell used cars?")
    assert (task["answer"], task["timings"]["answer_path"], task["needs_person"]) == (FALLBACK["en"], "fallback", True)
    assert task["sources"] == []
    assert not asked_the_model(grounded_llm, "used cars")  # nothing relevant: the model is not asked at all
    assert scrape(metrics).value("parley_worker_answers_total", path="fallback") == before + 1

    arabic = ask(grounded_stack, "هل تبيعون الدراجات النارية المستعملة؟", language="ar")
    assert (arabic["answer"], arabic["needs_person"]) == (FALLBACK["ar"], True)

    # The operator lists what needs a person; a task answered from the knowledge is not in that list.
    admin = grounded_stack.client("admin")
    listed = admin.get("/api/v1/admin/tenants/default/tasks", params={"needs_person": "true"}).json()
    ids = {t["task_id"] for t in listed["items"]}
    assert {task["task_id"], arabic["task_id"]} <= ids and all(t["needs_person"] for t in listed["items"])
    others = admin.get("/api/v1/admin/tenants/default/tasks", params={"needs_person": "false", "limit": 200}).json()
    assert task["task_id"] not in {t["task_id"] for t in others["items"]}
