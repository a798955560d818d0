"""SIGTERM to a worker mid-answer: it finishes the answer, then exits cleanly."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.servers import wait_until
from parley_testkit.stack import Stack, running_stack
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.fault


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    fake = FakeLLM().start()
    yield fake
    fake.stop()


@pytest.fixture
def stack(tmp_path_factory: pytest.TempPathFactory, fake_llm: FakeLLM) -> Iterator[Stack]:
    with running_stack(
        name="sigterm",
        workdir=tmp_path_factory.mktemp("sigterm"),
        redis_url=redis_url(dbs.WORKER_SHUTDOWN),
        worker_env=fake_llm.worker_env,
    ) as stack:
        yield stack


def test_sigterm_finishes_the_answer_in_flight(stack: Stack, fake_llm: FakeLLM) -> None:
    fake_llm.add(Rule(when="slow", answer="Worth the wait.", delay_seconds=3))
    response = stack.client().post(
        "/api/v1/messages", json={"channel": "web", "chat_id": "t", "user": {"id": "u"}, "text": "a slow one"}
    )
    task_id = response.json()["task_id"]
    wait_until(lambda: len(fake_llm.requests) == 1, timeout=60, what="the model asked")
    assert stack.worker is not None
    stack.worker.proc.send_signal(signal.SIGTERM)
    assert stack.worker.proc.wait(timeout=60) == 0
    task = stack.client().get(f"/api/v1/tasks/{task_id}").json()
    assert task["status"] == "done" and task["answer"] == "Worth the wait."


def test_sigterm_to_an_idle_worker_exits_cleanly(stack: Stack) -> None:
    """RQ leaves its loop the same way for a stop request and for a lost Redis; an idle worker must not
    mistake the first for the second and start listening again."""
    assert stack.worker is not None
    stack.worker.proc.send_signal(signal.SIGTERM)
    assert stack.worker.proc.wait(timeout=60) == 0
    assert "takes jobs again" not in stack.worker.log()


@pytest.fixture
def outage_stack(tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer) -> Iterator[Stack]:
    with running_stack(
        name="sigterm-outage", workdir=tmp_path_factory.mktemp("sigterm-outage"), redis_url=redis_server.url
    ) as stack:
        yield stack


def test_sigterm_during_a_redis_outage_ends_the_worker(outage_stack: Stack, redis_server: RedisServer) -> None:
    """Idle with Redis gone, the worker sits in RQ's reconnect loop (which swallows connection errors
    and backs off up to a minute); a stop must still end it, not wait for Redis to come back."""
    worker = outage_stack.worker
    assert worker is not None
    redis_server.kill()
    wait_until(lambda: "could not connect to Redis" in worker.log(), timeout=30, what="the worker retrying Redis")
    worker.proc.send_signal(signal.SIGTERM)
    # The bound only turns "never exits" (until Redis is back) into a failure.
    assert worker.proc.wait(timeout=30) == 0, worker.log()[-3000:]


def test_sigterm_while_the_worker_loads_its_models_exits_zero(
    tmp_path_factory: pytest.TempPathFactory, fake_llm: FakeLLM
) -> None:
    """Before RQ installs its handlers the worker spends seconds loading models; a SIGTERM then
    must end it cleanly (as PID 1 in a container a default-handled SIGTERM would be ignored)."""
    with running_stack(
        name="sigterm-loading",
        workdir=tmp_path_factory.mktemp("sigterm-loading"),
        redis_url=redis_url(dbs.WORKER_SHUTDOWN),
        worker_env=fake_llm.worker_env,
        ready=False,
    ) as stack:
        worker = stack.worker
        assert worker is not None
        wait_until(lambda: "loading its models" in worker.log(), timeout=60, what="the worker loading")
        worker.proc.send_signal(signal.SIGTERM)
        assert worker.proc.wait(timeout=30) == 0, worker.log()[-3000:]
        assert "loaded its models" not in worker.log()  # it was stopped while loading
