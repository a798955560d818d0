"""Redis killed and restarted while answers are being made: nothing lost, nothing answered twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.servers import wait_until
from parley_testkit.stack import Stack, running_stack
from parley_testkit.wazzup_emulator import WazzupEmulator
from tests.support.redis_server import RedisServer
from tests.support.whatsapp import Adapter, adapter_env, new_chat

pytestmark = pytest.mark.fault


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeLLM]:
    fake = FakeLLM().start()
    fake.add(Rule(when="question", answer="An answer.", delay_seconds=0.5))
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def own_redis() -> Iterator[RedisServer]:
    """A redis-server of the module's own: each test kills it and starts it again on its data."""
    server = RedisServer()
    server.start()
    yield server
    server.destroy()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, own_redis: RedisServer, fake_llm: FakeLLM) -> Iterator[Stack]:
    """One stack for the module: the second test starts from what the first crash left, recovered."""
    with running_stack(
        name="redis-restart",
        workdir=tmp_path_factory.mktemp("redis-restart"),
        redis_url=own_redis.url,
        worker_env=fake_llm.worker_env,
        gateway_overrides={
            "reconcile_interval_seconds": 1,
            "reconcile_queued_grace_seconds": 3,
            "task_lease_seconds": 10,
        },
    ) as stack:
        yield stack


@pytest.fixture
def redis_server(own_redis: RedisServer, stack: Stack) -> RedisServer:
    """The module's Redis, with the stack ready on it (the worker back after an earlier test's crash)."""
    stack.wait_ready()
    return own_redis


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


def test_whatsapp_customers_each_get_one_reply_across_a_redis_crash(
    stack: Stack, redis_server: RedisServer, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    """The whole path, adapters included: webhooks accepted, Redis SIGKILLed while the answers are being
    made (a second after the last webhook, once AOF has written it) and started again on its data."""
    fake_llm.add(Rule(when="crash question", answer="An answer after the crash.", delay_seconds=1))
    emulator = WazzupEmulator().start()
    adapter = Adapter(env=adapter_env(stack, emulator), workdir=tmp_path).start()
    try:
        adapter.register_with(emulator)
        chats = [new_chat() for _ in range(8)]
        for n, chat in enumerate(chats):
            _message_id, response = emulator.customer_writes(chat, f"crash question {n}")
            assert response.status_code == 200, response.text
        time.sleep(1.5)  # appendfsync everysec: what was acknowledged is on disk
        redis_server.kill()
        time.sleep(2)
        redis_server.start()
        for chat in chats:
            emulator.wait_sent(chat, timeout=120)
        # A later customer's answer delivered: a second copy queued before it would have been sent first.
        # (Posted as Wazzup does, again until accepted: the first webhook after the restart may meet a
        # connection the crash closed, and is refused so that it is retried.)
        marker = emulator.inbound_message(new_chat(), "crash question marker")
        wait_until(
            lambda: emulator.post_webhook({"messages": [marker]}).status_code == 200,
            timeout=30,
            interval=0.5,
            what="the marker's webhook accepted",
        )
        emulator.wait_sent(marker["chatId"], timeout=120)
        assert {chat: len(emulator.sent_to(chat)) for chat in chats} == dict.fromkeys(chats, 1)
        assert all(m["text"] == "An answer after the crash." for chat in chats for m in emulator.sent_to(chat))
        assert adapter.alive()
    finally:
        adapter.stop()
        emulator.stop()
        print(adapter.log())
