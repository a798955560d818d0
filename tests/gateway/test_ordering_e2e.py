"""Order and bursts through the real stack: gateway, Redis, real worker processes, a scripted LLM."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from parley_contract.names import WORKER_STATUS_PREFIX, reply_stream
from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.servers import ServiceProcess, wait_until
from parley_testkit.stack import Stack, start_stack
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url

REDIS_DB = dbs.ORDERING


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeLLM]:
    """One scripted model for the module: each test's rules and requests go by texts of its own."""
    fake = FakeLLM().start()
    yield fake
    fake.stop()


def stack_with_workers(workdir: Path, fake_llm: FakeLLM, *, workers: int) -> Iterator[Stack]:
    stack = start_stack(
        name="ordering",
        workdir=workdir,
        database_url=f"sqlite:///{workdir / 'parley.db'}",
        redis_url=redis_url(REDIS_DB),
        worker_env=fake_llm.worker_env,
        gateway_overrides={"burst_window_seconds": 2},
    )
    extra: list[ServiceProcess] = []
    try:
        stack.start_worker()
        for n in range(1, workers):
            # Each worker owns its embedded vector store (the knowledge base is empty here).
            extra.append(
                ServiceProcess(
                    ["-m", "ai_worker", "worker"],
                    env={
                        **stack.worker_env,
                        "WORKER_NAME": f"ordering-{n}",
                        "CHROMA_PATH": str(workdir / f"chroma-{n}"),
                    },
                    log_path=workdir / f"worker-{n}.log",
                    cwd=workdir,
                )
            )
        connection = redis.Redis.from_url(redis_url(REDIS_DB))
        wait_until(
            lambda: len(connection.keys(WORKER_STATUS_PREFIX + "*")) == workers,
            timeout=180,
            what=f"{workers} workers with their models loaded",
        )
        connection.close()
        yield stack
    finally:
        for process in extra:
            process.stop()
        stack.close()


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory, fake_llm: FakeLLM) -> Iterator[Stack]:
    """One gateway and two worker processes for the module; each test sets the burst window it needs
    (the gateway reads it at each claim: gateway/api/internal.py)."""
    yield from stack_with_workers(tmp_path_factory.mktemp("ordering"), fake_llm, workers=2)


@pytest.fixture
def two_workers_no_window(two_workers: Stack) -> Iterator[Stack]:
    with two_workers.setting("burst_window_seconds", 0):
        yield two_workers


@pytest.fixture
def two_workers_default_window(two_workers: Stack) -> Iterator[Stack]:
    with two_workers.setting("burst_window_seconds", 2):
        yield two_workers


def post(stack: Stack, text: str, *, chat_id: str, channel: str = "web") -> str:
    response = stack.client().post(
        "/api/v1/messages", json={"channel": channel, "chat_id": chat_id, "user": {"id": chat_id}, "text": text}
    )
    assert response.status_code == 202, response.text
    task_id: str = response.json()["task_id"]
    return task_id


def transcript(stack: Stack, task_id: str) -> list[dict[str, Any]]:
    conversation = stack.client().get(f"/api/v1/tasks/{task_id}").json()["conversation_id"]
    messages: list[dict[str, Any]] = (
        stack.client().get(f"/api/v1/conversations/{conversation}/messages").json()["messages"]
    )
    return messages


def requests_about(fake_llm: FakeLLM, text: str) -> list[dict[str, Any]]:
    def last_user(body: dict[str, Any]) -> str:
        return next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")

    return [body for body in fake_llm.requests if text in last_user(body)]


def reply_events(stack: Stack, channel: str, task_ids: list[str]) -> list[dict[str, Any]]:
    connection = redis.Redis.from_url(stack.settings.redis_url, decode_responses=True)
    try:
        entries: Any = connection.xrange(reply_stream(channel))
    finally:
        connection.close()
    return [json.loads(fields["event"]) for _, fields in entries if fields["task_id"] in task_ids]


def test_messages_of_one_conversation_are_answered_in_order_by_two_workers(
    two_workers_no_window: Stack, fake_llm: FakeLLM
) -> None:
    stack = two_workers_no_window
    # The first answer is slow: without ordering the second worker would answer the second message first.
    fake_llm.add(Rule(when="first question", answer="Answer one.", delay_seconds=3))
    fake_llm.add(Rule(when="second question", answer="Answer two."))
    fake_llm.add(Rule(when="third question", answer="Answer three."))
    ids = [post(stack, f"The {n} question", chat_id="ordered") for n in ("first", "second", "third")]
    for task_id in ids:
        task = stack.wait_task(task_id, wait=90)
        assert task["status"] == "done" and task["merged_into"] is None, task
    messages = transcript(stack, ids[0])
    answers = [(m["task_id"], m["text"]) for m in messages if m["role"] == "assistant"]
    # Window 0: three answers, stored in the order of the messages.
    assert answers == list(zip(ids, ["Answer one.", "Answer two.", "Answer three."], strict=True))
    for question, previous in (("second question", "Answer one."), ("third question", "Answer two.")):
        (request,) = requests_about(fake_llm, question)
        history = [m["content"] for m in request["messages"] if m["role"] == "assistant"]
        assert previous in history, request["messages"]


def test_a_burst_is_answered_once_with_all_its_messages(two_workers_default_window: Stack, fake_llm: FakeLLM) -> None:
    stack = two_workers_default_window
    fake_llm.add(Rule(when="arrive", answer="Your sofa arrives on Tuesday."))
    texts = ["Hello", "I ordered the Oslo sofa", "when will it arrive?"]
    ids = [post(stack, text, chat_id="burst") for text in texts]
    tasks = [stack.wait_task(task_id, wait=60) for task_id in ids]
    assert [t["status"] for t in tasks] == ["done"] * 3, tasks
    assert [t["answer"] for t in tasks] == ["Your sofa arrives on Tuesday."] * 3
    assert [t["merged_into"] for t in tasks] == [ids[2], ids[2], None]
    # One turn for the model, with the three texts…
    (request,) = requests_about(fake_llm, "Hello")
    turn = next(m["content"] for m in reversed(request["messages"]) if m["role"] == "user")
    assert all(text in turn for text in texts), turn
    # …one answer stored, and one reply for the channel to deliver, naming the tasks it covers.
    assert [m["task_id"] for m in transcript(stack, ids[0]) if m["role"] == "assistant"] == [ids[2]]
    (event,) = reply_events(stack, "web", ids)
    assert (event["task_id"], event["merged_task_ids"]) == (ids[2], ids[:2])

    # A message on its own is answered on its own (after the window).
    single = stack.wait_task(post(stack, "Do you deliver to Sharjah?", chat_id="single"), wait=60)
    assert single["status"] == "done" and single["merged_into"] is None


def test_api_channel_messages_are_never_merged(two_workers_default_window: Stack, fake_llm: FakeLLM) -> None:
    stack = two_workers_default_window
    ids = [post(stack, f"Partner request {n}", chat_id="partner", channel="api") for n in range(3)]
    tasks = [stack.wait_task(task_id, wait=60) for task_id in ids]
    assert [(t["status"], t["merged_into"]) for t in tasks] == [("done", None)] * 3, tasks
    assert [m["task_id"] for m in transcript(stack, ids[0]) if m["role"] == "assistant"] == ids
    assert len(reply_events(stack, "api", ids)) == 3
