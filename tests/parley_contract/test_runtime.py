"""The shared mechanisms (parley_contract.runtime) on their own: loops, backoff, the stream consumer on real Redis."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from redis.asyncio import Redis

from parley_contract.runtime.loops import AsyncLoop, ThreadLoop
from parley_contract.runtime.retry import backoff_delay, transient_status
from parley_contract.runtime.streams import StreamConsumer
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    for attempt, full in ((1, 2.0), (2, 4.0), (3, 8.0), (10, 60.0), (500, 60.0)):
        for _ in range(50):
            assert full / 2 <= backoff_delay(attempt=attempt, initial=2.0, cap=60.0) <= full


def test_which_statuses_are_worth_retrying() -> None:
    assert all(transient_status(s) for s in (408, 425, 429, 500, 502, 503, 504))
    assert not any(transient_status(s) for s in (400, 401, 403, 404, 409, 413, 422))
    # The channel adapters keep a customer's message when the gateway refuses their own token.
    assert transient_status(401, credentials_are_transient=True)
    assert transient_status(403, credentials_are_transient=True)
    assert not transient_status(422, credentials_are_transient=True)


def test_an_async_loop_survives_a_failing_round_and_wakes_on_demand() -> None:
    async def scenario() -> list[int]:
        rounds: list[int] = []

        async def round() -> None:
            rounds.append(len(rounds))
            if len(rounds) == 1:
                raise RuntimeError("the first round fails")

        loop = AsyncLoop(round, name="test", interval_seconds=0.05)
        loop.start()
        await asyncio.sleep(0.3)
        slow = AsyncLoop(round, name="slow", interval_seconds=60)
        slow.start()
        before = len(rounds)
        await loop.stop()
        after_stop = len(rounds)
        slow.wake()
        await asyncio.sleep(0.05)
        assert len(rounds) == after_stop + 1  # woken at once, not after 60 s
        await slow.stop()
        assert before >= 3
        return rounds

    assert asyncio.run(scenario())[:3] == [0, 1, 2]


def test_a_thread_loop_ends_when_its_round_says_so_or_when_stopped() -> None:
    calls: list[int] = []
    done = threading.Event()

    def round() -> bool:
        calls.append(1)
        if len(calls) == 3:
            done.set()
            return False
        return True

    loop = ThreadLoop(round, name="three", interval_seconds=0.01)
    loop.start()
    assert done.wait(5)
    loop.stop(join_seconds=1)
    assert len(calls) == 3

    forever = ThreadLoop(lambda: None, name="forever", interval_seconds=0.01)
    forever.start()
    forever.stop(join_seconds=1)
    assert not forever._thread.is_alive()


STREAM = "test:runtime:stream"


async def _consume(consumer: StreamConsumer, until: Any, *, within_seconds: float = 10) -> None:
    """Run the consumer until `until()` holds (a failure after `within_seconds`)."""
    task = asyncio.create_task(consumer.run())
    try:
        for _ in range(int(within_seconds / 0.05)):
            if await until():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the consumer did not get there in time")
    finally:
        consumer.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.parametrize("concurrent", [False, True])
def test_the_stream_consumer_retries_a_failed_entry_first_and_acks_once_handled(concurrent: bool) -> None:
    async def scenario() -> list[str]:
        redis = Redis.from_url(redis_url(dbs.RUNTIME), decode_responses=True)
        await redis.delete(STREAM)
        handled: list[str] = []
        failures = {"b": 2}

        async def handle(_entry_id: Any, fields: dict[Any, Any]) -> bool | None:
            name = fields["n"]
            if failures.get(name, 0) > 0:
                failures[name] -= 1
                raise RuntimeError(f"{name} fails")
            if name == "c" and "not-yet" not in handled:
                handled.append("not-yet")
                return False  # e.g. another consumer holds its lock: pending, tried again
            handled.append(name)
            return None

        for name in "abc":
            await redis.xadd(STREAM, {"n": name})
        await redis.xgroup_create(STREAM, "g", id="0")
        consumer = StreamConsumer(
            redis,
            stream=STREAM,
            group="g",
            consumer="one",
            handle=handle,
            claim_idle_ms=60_000,
            concurrent=concurrent,
            block_ms=100,
            error_pause_seconds=0.05,
        )

        async def all_acked() -> bool:
            pending: Any = await redis.xpending(STREAM, "g")
            return {"a", "b", "c"} <= set(handled) and pending["pending"] == 0

        await _consume(consumer, all_acked)
        await redis.aclose()
        return [name for name in handled if name != "not-yet"]

    handled = asyncio.run(scenario())
    assert sorted(handled) == ["a", "b", "c"]  # each handled once, after its failures
    if not concurrent:
        assert handled == ["a", "b", "c"]  # in order: what follows a failed entry waits for it


def test_the_stream_consumer_takes_over_entries_another_consumer_abandoned() -> None:
    async def scenario() -> list[str]:
        redis = Redis.from_url(redis_url(dbs.RUNTIME), decode_responses=True)
        await redis.delete(STREAM)
        await redis.xgroup_create(STREAM, "g", id="0", mkstream=True)
        await redis.xadd(STREAM, {"n": "left"})
        await redis.xreadgroup("g", "dead", {STREAM: ">"})  # read, never acked: that consumer died
        handled: list[str] = []

        async def handle(_entry_id: Any, fields: dict[Any, Any]) -> None:
            handled.append(fields["n"])

        consumer = StreamConsumer(
            redis, stream=STREAM, group="g", consumer="alive", handle=handle, claim_idle_ms=50, block_ms=100
        )

        async def taken_over() -> bool:
            return handled == ["left"]

        await _consume(consumer, taken_over)
        await redis.aclose()
        return handled

    assert asyncio.run(scenario()) == ["left"]
