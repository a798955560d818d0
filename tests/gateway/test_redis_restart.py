"""Redis killed and restarted while answers are being made: nothing lost, nothing answered twice."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.support.fake_llm import FakeLLM, Rule
from tests.support.redis_server import RedisServer
from tests.support.stack import Stack, running_stack

pytestmark = pytest.mark.fault


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    fake = FakeLLM().start()
    fake.add(Rule(when="question", answer="An answer.", delay_seconds=0.5))
    yield fake
    fake.stop()


@pytest.fixture
def stack(tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer, fake_llm: FakeLLM) -> Iterator[Stack]:
    with running_stack(
        name="redis-restart",
        workdir=tmp_path_factory.mktemp("redis-restart"),
        redis_url=redis_server.url,
        worker_env=fake_llm.worker_env,
        gateway_overrides={
            "reconcile_interval_seconds": 1,
            "reconcile_queued_grace_seconds": 3,
            "task_lease_seconds": 10,
        },
    ) as stack:
        yield stack


def test_every_message_is_answered_exactly_once(stack: Stack, redis_server: RedisServer) -> None:
    client = stack.client()
    task_ids = []
    for n in range(8):
        response = client.post(
            "/api/v1/messages",
            json={"channel": "web", "chat_id": f"redis-{n}", "user": {"id": f"u{n}"}, "text": f"question {n}"},
            headers={"Idempotency-Key": f"redis-restart-{n}"},
        )
        assert response.status_code == 202
        task_ids.append(response.json()["task_id"])

    time.sleep(1)  # some answered, one in flight, the rest queued
    redis_server.kill()
    time.sleep(2)
    redis_server.start()

    for task_id in task_ids:
        task = stack.wait_task(task_id, wait=120)
        assert task["status"] == "done", task
        transcript = client.get(f"/api/v1/conversations/{task['conversation_id']}/messages").json()
        assert [m["role"] for m in transcript["messages"]] == ["user", "assistant"], transcript
