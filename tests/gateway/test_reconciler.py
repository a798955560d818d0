"""The reconciler puts back tasks that RQ lost (a flushed queue, a worker killed mid-answer) and replies
Redis refused; a live worker keeps its task by renewing the lease."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator

import pytest
import redis

from parley_contract.names import reply_stream
from tests.conftest import redis_url
from tests.support.fake_llm import FakeLLM, Rule
from tests.support.servers import ServiceProcess, wait_until
from tests.support.stack import Stack, ready_workers, start_stack

REDIS_DB = 4

pytestmark = pytest.mark.fault


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    fake = FakeLLM().start()
    yield fake
    fake.stop()


@pytest.fixture
def fast_reconciling_stack(tmp_path_factory: pytest.TempPathFactory, fake_llm: FakeLLM) -> Iterator[Stack]:
    """No worker yet; the reconciler runs every second with short bounds."""
    workdir = tmp_path_factory.mktemp("reconciler-stack")
    stack = start_stack(
        name="reconciler",
        workdir=workdir,
        database_url=f"sqlite:///{workdir / 'parley.db'}",
        redis_url=redis_url(REDIS_DB),
        worker_env=fake_llm.worker_env,
        gateway_overrides={
            "reconcile_interval_seconds": 1,
            "reconcile_queued_grace_seconds": 2,
            "task_lease_seconds": 6,
        },
    )
    try:
        yield stack
    finally:
        stack.close()


def post(stack: Stack, text: str) -> str:
    response = stack.client().post(
        "/api/v1/messages", json={"channel": "web", "chat_id": "rc", "user": {"id": "u"}, "text": text}
    )
    assert response.status_code == 202
    task_id: str = response.json()["task_id"]
    return task_id


def assistant_messages(stack: Stack, task_id: str) -> list[str]:
    task = stack.client().get(f"/api/v1/tasks/{task_id}").json()
    transcript = stack.client().get(f"/api/v1/conversations/{task['conversation_id']}/messages").json()
    return [m["text"] for m in transcript["messages"] if m["role"] == "assistant" and m["task_id"] == task_id]


def test_a_task_whose_queue_was_lost_is_answered(fast_reconciling_stack: Stack, fake_llm: FakeLLM) -> None:
    stack = fast_reconciling_stack
    task_id = post(stack, "Do you deliver to Sharjah?")
    redis.Redis.from_url(redis_url(REDIS_DB)).flushdb()  # Redis restarted without its data
    stack.start_worker()
    task = stack.wait_task(task_id, wait=90)
    assert task["status"] == "done", task
    assert assistant_messages(stack, task_id) == [fake_llm.default_answer]


def test_a_worker_killed_mid_answer_is_replaced_and_answers_once(
    fast_reconciling_stack: Stack, fake_llm: FakeLLM
) -> None:
    stack = fast_reconciling_stack
    fake_llm.add(Rule(when="slow question", answer="The slow answer.", delay_seconds=4))
    first = stack.start_worker()
    task_id = post(stack, "A slow question about sofas")
    wait_until(
        lambda: stack.client().get(f"/api/v1/tasks/{task_id}").json()["status"] == "running",
        timeout=60,
        what="the task running",
    )
    first.stop(signal.SIGKILL)
    stack.worker = None
    stack.start_worker()
    task = stack.wait_task(task_id, wait=120)
    assert task["status"] == "done", task
    assert assistant_messages(stack, task_id) == ["The slow answer."]


def test_a_generation_longer_than_the_lease_keeps_its_task(fast_reconciling_stack: Stack, fake_llm: FakeLLM) -> None:
    """The worker renews its 6 s lease through a 10 s generation: the idle second worker never gets the task."""
    stack = fast_reconciling_stack
    fake_llm.add(
        Rule(when="long question", answer="A long answer in ten pieces, one per second.", piece_delay_seconds=1)
    )
    stack.start_worker()
    second = ServiceProcess(
        ["-m", "ai_worker", "worker"],
        env={"WORKER_NAME": f"test-second-{time.time_ns()}", **stack.worker_env},
        log_path=stack.workdir / "second-worker.log",
        cwd=stack.workdir,
    )
    try:
        wait_until(lambda: ready_workers(stack.settings.redis_url) == 2, timeout=180, what="both workers ready")
        task_id = post(stack, "A long question about wardrobes")
        task = stack.wait_task(task_id, wait=120)
    finally:
        second.stop()
    assert task["status"] == "done", task
    assert assistant_messages(stack, task_id) == ["A long answer in ten pieces, one per second."]
    asked = [r for r in fake_llm.requests if "long question" in json.dumps(r)]
    assert len(asked) == 1, f"the task was generated {len(asked)} times"


def test_a_reply_that_could_not_be_published_is_published_once_later(
    fast_reconciling_stack: Stack, fake_llm: FakeLLM
) -> None:
    """Redis refuses the reply event right after the answer is stored; the reconciler appends it afterwards."""
    stack = fast_reconciling_stack
    connection = redis.Redis.from_url(redis_url(REDIS_DB), decode_responses=True)
    stream = reply_stream("web")
    connection.delete(stream)
    connection.set(stream, "not a stream")  # XADD now fails with WRONGTYPE, as a failing Redis would
    stack.start_worker()
    task_id = post(stack, "Do you assemble the furniture?")
    task = stack.wait_task(task_id, wait=90)
    assert task["status"] == "done", task
    assert connection.type(stream) == "string"  # the event was not appended
    connection.delete(stream)

    def events_for_task() -> list[str]:
        return [f["task_id"] for _, f in connection.xrange(stream) if f["task_id"] == task_id]

    wait_until(lambda: len(events_for_task()) > 0, timeout=30, what="the reply re-published")
    time.sleep(3)  # several more reconciler rounds
    assert events_for_task() == [task_id]
    assert stack.reply_event(task_id)["answer"] == fake_llm.default_answer
    connection.close()
