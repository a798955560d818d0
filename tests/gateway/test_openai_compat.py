"""The OpenAI-compatible endpoint with the official `openai` package as a real client, on the
partner stack (PostgreSQL, Redis, a real worker on the scripted LLM)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import openai
import pytest
from openai import OpenAI

from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.stack import Stack
from tests.support.metrics import scrape


@pytest.fixture
def tenant(partner_stack: Stack) -> dict[str, Any]:
    return partner_stack.new_tenant()


@pytest.fixture
def key(partner_stack: Stack, tenant: dict[str, Any]) -> str:
    return partner_stack.new_key(tenant["id"], "messages:write", "tasks:read", "conversations:read")


def client(stack: Stack, key: str) -> OpenAI:
    return OpenAI(base_url=stack.url + "/v1", api_key=key, max_retries=0, timeout=120)


def transcript(stack: Stack, key: str, task_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    http = stack.client_with_key(key)
    task = http.get(f"/api/v1/tasks/{task_id}").json()
    conversation = http.get(f"/api/v1/conversations/{task['conversation_id']}/messages")
    assert conversation.status_code == 200, conversation.text
    return task, conversation.json()


def test_non_streaming_answer_is_stored_in_a_conversation(partner_stack: Stack, key: str) -> None:
    raw = client(partner_stack, key).chat.completions.with_raw_response.create(
        model="parley", messages=[{"role": "user", "content": "Do you deliver to Sharjah?"}]
    )
    answer = raw.parse()
    task_id = raw.headers["X-Parley-Task-Id"]
    assert answer.object == "chat.completion"
    assert answer.id == f"chatcmpl-{task_id}"
    assert answer.choices[0].message.content == "We deliver to all seven emirates."
    assert answer.choices[0].finish_reason == "stop"
    task, conversation = transcript(partner_stack, key, task_id)
    assert task["status"] == "done" and task["answer"] == answer.choices[0].message.content
    assert [(m["role"], m["text"]) for m in conversation["messages"]] == [
        ("user", "Do you deliver to Sharjah?"),
        ("assistant", "We deliver to all seven emirates."),
    ]


def test_streaming_relays_many_pieces_that_make_the_stored_answer(
    partner_stack: Stack, partner_llm: FakeLLM, key: str
) -> None:
    long_answer = " ".join(f"word{i}" for i in range(400))
    partner_llm.add(Rule(when="tell me everything", answer=long_answer))
    stream = client(partner_stack, key).chat.completions.create(
        model="parley", messages=[{"role": "user", "content": "Please tell me everything"}], stream=True
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    contents = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    task_id = chunks[0].id.removeprefix("chatcmpl-")
    task, conversation = transcript(partner_stack, key, task_id)
    assert "".join(contents) == task["answer"] == long_answer
    assert [m["role"] for m in conversation["messages"]] == ["user", "assistant"]


def test_same_user_continues_the_conversation(partner_stack: Stack, partner_llm: FakeLLM, key: str) -> None:
    ai = client(partner_stack, key)
    user = f"customer-{uuid.uuid4().hex[:8]}"
    first_question = f"First question {user}"
    ai.chat.completions.create(model="parley", user=user, messages=[{"role": "user", "content": first_question}])
    second = f"Second question {user}"
    ai.chat.completions.create(model="parley", user=user, messages=[{"role": "user", "content": second}])
    sent = next(r for r in partner_llm.requests if second in str(r["messages"][-1]["content"]))
    assert any(first_question in str(m["content"]) for m in sent["messages"][:-1])


def test_earlier_turns_of_a_request_become_history(partner_stack: Stack, partner_llm: FakeLLM, key: str) -> None:
    marker = uuid.uuid4().hex[:8]
    client(partner_stack, key).chat.completions.create(
        model="parley",
        messages=[
            {"role": "user", "content": f"My order is {marker}"},
            {"role": "assistant", "content": "Noted."},
            {"role": "user", "content": f"Where is it? {marker}"},
        ],
    )
    sent = next(r for r in partner_llm.requests if f"Where is it? {marker}" in str(r["messages"][-1]["content"]))
    assert any(f"My order is {marker}" in str(m["content"]) for m in sent["messages"][:-1])


def test_models_list(partner_stack: Stack, key: str) -> None:
    assert "parley" in [m.id for m in client(partner_stack, key).models.list()]


def test_errors_in_openai_shape(partner_stack: Stack, tenant: dict[str, Any], key: str) -> None:
    ask = [{"role": "user", "content": "hello"}]
    with pytest.raises(openai.AuthenticationError):
        client(partner_stack, "pk-not-a-key").chat.completions.create(model="parley", messages=ask)  # type: ignore[arg-type]
    reader = partner_stack.new_key(tenant["id"], "tasks:read")
    with pytest.raises(openai.PermissionDeniedError):
        client(partner_stack, reader).chat.completions.create(model="parley", messages=ask)  # type: ignore[arg-type]
    with pytest.raises(openai.NotFoundError) as missing:
        client(partner_stack, key).chat.completions.create(model="gpt-17", messages=ask)  # type: ignore[arg-type]
    assert missing.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError, match="n > 1"):
        client(partner_stack, key).chat.completions.create(model="parley", messages=ask, n=2)  # type: ignore[arg-type]
    with pytest.raises(openai.BadRequestError):
        client(partner_stack, key).chat.completions.create(model="parley", messages=[])


def test_failing_llm_gives_an_api_error_not_a_hang(partner_stack: Stack, partner_llm: FakeLLM, key: str) -> None:
    partner_llm.add(Rule(when="break the model", status=500))
    with pytest.raises(openai.APIError):
        client(partner_stack, key).chat.completions.create(
            model="parley", messages=[{"role": "user", "content": "please break the model"}]
        )


def test_streaming_arrives_in_pieces_while_the_model_generates(
    partner_stack: Stack, partner_llm: FakeLLM, key: str
) -> None:
    words = 40
    partner_llm.add(
        Rule(when="a long story", answer=" ".join(f"part{i}" for i in range(words)), piece_delay_seconds=0.05)
    )
    stream = client(partner_stack, key).chat.completions.create(
        model="parley", messages=[{"role": "user", "content": "Tell me a long story"}], stream=True
    )
    arrivals = [(time.monotonic(), c.choices[0].delta.content) for c in stream if c.choices[0].delta.content]
    # 40 pieces 50 ms apart take 2 s to generate: relayed as they come, they arrive spread over that time.
    assert len(arrivals) >= 5
    assert arrivals[-1][0] - arrivals[0][0] >= 1.0
    assert "".join(text for _, text in arrivals if text) == " ".join(f"part{i}" for i in range(words))


def test_limits_request_id_and_metrics_apply_as_on_the_messages_route(partner_stack: Stack) -> None:
    tenant = partner_stack.new_tenant(settings={"daily_message_quota": 1})
    key = partner_stack.new_key(tenant["id"], "messages:write", "tasks:read", rate_limit_per_minute=3)
    ai = client(partner_stack, key)
    ask = [{"role": "user", "content": "Do you deliver to Sharjah?"}]
    request_id = f"sdk-{uuid.uuid4().hex}"
    accepted_before = scrape(f"{partner_stack.url}/metrics").value("parley_messages_accepted_total", channel="api")

    raw = ai.chat.completions.with_raw_response.create(
        model="parley",
        messages=ask,  # type: ignore[arg-type]
        extra_headers={"X-Request-ID": request_id},
    )
    assert raw.headers["X-Request-ID"] == request_id
    assert raw.headers["X-RateLimit-Limit"] == "3"
    task_id = raw.headers["X-Parley-Task-Id"]
    assert partner_stack.client_with_key(key).get(f"/api/v1/tasks/{task_id}").json()["status"] == "done"
    assert partner_stack.reply_event(task_id, channel="api")["request_id"] == request_id
    after = scrape(f"{partner_stack.url}/metrics")
    assert after.value("parley_messages_accepted_total", channel="api") == accepted_before + 1

    # The tenant's daily message quota (1) is spent: a 429 in OpenAI's shape, which the SDK raises.
    with pytest.raises(openai.RateLimitError) as spent:
        ai.chat.completions.create(model="parley", messages=ask)  # type: ignore[arg-type]
    assert spent.value.code == "insufficient_quota"
    assert spent.value.response.headers["Retry-After"]
    # The key's own rate limit (3 a minute; GET /v1/models counts too).
    with pytest.raises(openai.RateLimitError) as limited:
        ai.models.list()
    assert limited.value.code == "rate_limit_exceeded"
    assert limited.value.response.headers["X-RateLimit-Remaining"] == "0"
