"""SIGTERM to a worker mid-answer: it finishes the answer, then exits cleanly."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from tests.conftest import redis_url
from tests.support.fake_llm import FakeLLM, Rule
from tests.support.servers import wait_until
from tests.support.stack import Stack, running_stack

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
        redis_url=redis_url(3),
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
