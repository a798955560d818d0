"""The reconciler puts back tasks that RQ lost (a flushed queue, a worker killed mid-answer) and appends
replies Redis refused; a live worker keeps its task by renewing its lease, a stale one stores nothing."""

from __future__ import annotations

import json
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from parley_contract.names import DEFAULT_TENANT_ID, reply_stream
from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.servers import ServiceProcess, wait_until
from parley_testkit.stack import Stack, start_stack, worker_ready
from parley_testkit.wazzup_emulator import WazzupEmulator
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url
from tests.support.whatsapp import Adapter, adapter_env, new_chat

REDIS_DB = dbs.RECONCILER

pytestmark = pytest.mark.fault


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeLLM]:
    """One scripted model for the module; each test's rules and counts go by phrases of its own."""
    fake = FakeLLM().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def fast_reconciling_stack(tmp_path_factory: pytest.TempPathFactory, fake_llm: FakeLLM) -> Iterator[Stack]:
    """The reconciler runs every second with short bounds. No worker at first: a test starts one, or takes
    over the one an earlier test left running (`worker_of`), so a model is loaded only where a test
    needs a new worker process."""
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


def worker_of(stack: Stack) -> ServiceProcess:
    """The stack's worker, ready: the one running (left by an earlier test) or a new one."""
    if stack.worker is None or not stack.worker.alive():
        stack.worker = None
        stack.start_worker()
    worker = stack.worker
    assert worker is not None
    wait_until(lambda: worker_ready(stack.settings.redis_url, worker), timeout=180, what="the worker ready")
    return worker


def post(stack: Stack, text: str) -> str:
    """A message in a conversation of its own (the stack outlives the test)."""
    response = stack.client().post(
        "/api/v1/messages",
        json={"channel": "web", "chat_id": f"rc-{uuid.uuid4().hex[:8]}", "user": {"id": "u"}, "text": text},
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
    if stack.worker is not None:  # no worker may take the job before Redis loses it
        stack.worker.stop()
        stack.worker = None
    task_id = post(stack, "Do you deliver to Sharjah?")
    redis.Redis.from_url(redis_url(REDIS_DB)).flushdb()  # Redis restarted without its data
    stack.start_worker()
    task = stack.wait_task(task_id, wait=90)
    assert task["status"] == "done", task
    assert assistant_messages(stack, task_id) == [fake_llm.default_answer]


def test_a_worker_killed_mid_answer_is_replaced_and_answers_once(
    fast_reconciling_stack: Stack, fake_llm: FakeLLM
) -> None:
    """SIGKILL mid-generation: the dead worker stops renewing, so its task is claimed again a lease later."""
    stack = fast_reconciling_stack
    slow = "The slow answer comes one word at a time, twelve words in all."
    fake_llm.add(Rule(when="slow question", answer=slow, piece_delay_seconds=0.5))
    first = worker_of(stack)
    task_id = post(stack, "A slow question about sofas")
    wait_until(lambda: asked(fake_llm, "slow question") == 1, timeout=60, what="the model asked")
    first.stop(signal.SIGKILL)
    stack.worker = None
    stack.start_worker()
    task = stack.wait_task(task_id, wait=60)
    assert task["status"] == "done", task
    assert assistant_messages(stack, task_id) == [slow]
    assert asked(fake_llm, "slow question") == 2


def test_a_generation_longer_than_the_lease_keeps_its_task(fast_reconciling_stack: Stack, fake_llm: FakeLLM) -> None:
    """The worker renews its 6 s lease through a 10 s generation: the idle second worker never gets the task."""
    stack = fast_reconciling_stack
    fake_llm.add(
        Rule(when="long question", answer="A long answer in ten pieces, one per second.", piece_delay_seconds=1)
    )
    worker_of(stack)
    second = stack.extra_worker("second")
    try:
        wait_until(lambda: worker_ready(stack.settings.redis_url, second), timeout=180, what="the second worker ready")
        task_id = post(stack, "A long question about wardrobes")
        task = stack.wait_task(task_id, wait=120)
        time.sleep(3)  # more reconciler rounds: none may put the finished task back
    finally:
        second.stop()
    assert task["status"] == "done", task
    assert assistant_messages(stack, task_id) == ["A long answer in ten pieces, one per second."]
    assert asked(fake_llm, "long question") == 1, "the task was generated more than once"


def test_a_frozen_worker_that_lost_its_task_stores_nothing(fast_reconciling_stack: Stack, fake_llm: FakeLLM) -> None:
    """SIGSTOP past the lease: another worker claims the task. The first, resumed while the second is still
    writing, finds its claim gone (renewal refused, or its completion refused) and stores nothing."""
    stack = fast_reconciling_stack
    replacement_answer = "The replacement's answer also comes one word at a time, slowly."
    fake_llm.add(Rule(when="frozen question", answer=replacement_answer, piece_delay_seconds=0.5))
    fake_llm.add(
        Rule(
            when="frozen question",
            answer="The frozen worker's answer comes one word at a time, slowly.",
            piece_delay_seconds=0.5,
            times=1,
        )
    )
    frozen = worker_of(stack)
    earlier = len(frozen.log())  # what it logged in earlier tests does not count
    task_id = post(stack, "A frozen question about lamps")
    wait_until(lambda: asked(fake_llm, "frozen question") == 1, timeout=60, what="the model asked")
    frozen.proc.send_signal(signal.SIGSTOP)
    replacement = stack.extra_worker("replacement")
    try:
        wait_until(lambda: asked(fake_llm, "frozen question") == 2, timeout=120, what="the task claimed again")
        frozen.proc.send_signal(signal.SIGCONT)
        wait_until(
            lambda: "lost its claim" in frozen.log(earlier) or "claimed again; not stored" in frozen.log(earlier),
            timeout=30,
            what="the resumed worker giving the task up",
        )
        task = stack.wait_task(task_id, wait=60)
    finally:
        frozen.proc.send_signal(signal.SIGCONT)
        replacement.stop()
    assert task["status"] == "done", task
    assert assistant_messages(stack, task_id) == [replacement_answer]
    assert stack.reply_event(task_id)["answer"] == replacement_answer


def test_a_reply_that_could_not_be_published_is_delivered_once_later(
    fast_reconciling_stack: Stack, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    """Redis refuses the reply event right after the answer is stored (the stream key briefly holds a string,
    so XADD fails with WRONGTYPE); the reconciler appends it later and WhatsApp gets the answer once."""
    stack = fast_reconciling_stack
    worker_of(stack)
    emulator = WazzupEmulator().start()
    adapter = Adapter(env=adapter_env(stack, emulator), workdir=tmp_path).start()
    connection = redis.Redis.from_url(stack.settings.redis_url, decode_responses=True)
    stream, aside = reply_stream("whatsapp"), f"{reply_stream('whatsapp')}:aside"
    try:
        adapter.register_with(emulator)
        wait_until(lambda: bool(connection.xinfo_groups(stream)), timeout=30, what="the adapter's consumer group")
        connection.rename(stream, aside)  # keeps the stream and the adapter's group for afterwards
        connection.set(stream, "not a stream")
        chat = new_chat()
        emulator.customer_writes(chat, "Do you assemble the furniture?")
        task_id = wait_answered(stack, chat)
        assert connection.type(stream) == "string"  # the event was not appended
        assert emulator.sent_to(chat) == []
        with connection.pipeline(transaction=True) as swap:  # at once: no reconciler round falls in between
            swap.delete(stream)
            swap.rename(aside, stream)
            swap.execute()

        [message] = emulator.wait_sent(chat, timeout=60)
        assert message["text"] == fake_llm.default_answer
        marker = new_chat()
        emulator.customer_writes(marker, "Thanks!")
        emulator.wait_sent(marker, timeout=60)  # later events were handled, and several reconciler rounds ran
        assert emulator.sent_to(chat) == [message]
        events: Any = connection.xrange(stream)
        assert [f["task_id"] for _, f in events].count(task_id) == 1
    finally:
        connection.close()
        adapter.stop()
        emulator.stop()


def asked(fake_llm: FakeLLM, phrase: str) -> int:
    """How many generations the model was asked for whose last message contains `phrase`."""
    return sum(1 for request in list(fake_llm.requests) if phrase in json.dumps(request["messages"][-1]))


def wait_answered(stack: Stack, chat_id: str) -> str:
    """The id of the task that answered the chat's first message, once its answer is stored."""
    admin = stack.client("admin")
    found: list[str] = []

    def answered() -> bool:
        page = admin.get(f"/api/v1/admin/tenants/{DEFAULT_TENANT_ID}/conversations", params={"chat_id": chat_id}).json()
        if not page.get("items"):
            return False
        conversation_id = page["items"][0]["conversation_id"]
        transcript = stack.client().get(f"/api/v1/conversations/{conversation_id}/messages").json()
        found[:] = [m["task_id"] for m in transcript["messages"] if m["role"] == "assistant"]
        return bool(found)

    wait_until(answered, timeout=60, interval=0.5, what=f"the answer to {chat_id} stored")
    return found[0]
