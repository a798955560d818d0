"""The worker's answer pieces on a real Redis stream, and a dead Redis that must not fail the answer."""

from __future__ import annotations

import socket
import uuid
from typing import Any

from redis import Redis

from ai_worker.token_stream import TokenPublisher
from parley_contract.names import task_tokens_stream
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url


def test_pieces_reach_the_task_stream_in_order_with_a_ttl() -> None:
    redis = Redis.from_url(redis_url(dbs.TOKEN_STREAM))
    task_id = uuid.uuid4().hex
    publisher = TokenPublisher(redis, task_id=task_id, attempt=1, interval_seconds=0)
    for piece in ("Hello", " there", "!"):
        publisher.add(piece)
    publisher.flush()
    entries: Any = redis.xrange(task_tokens_stream(task_id))
    assert b"".join(fields[b"text"] for _id, fields in entries) == b"Hello there!"
    assert {fields[b"attempt"] for _id, fields in entries} == {b"1.1"}
    assert redis.ttl(task_tokens_stream(task_id)) > 0


def test_a_new_llm_attempt_is_labelled_apart() -> None:
    redis = Redis.from_url(redis_url(dbs.TOKEN_STREAM))
    task_id = uuid.uuid4().hex
    publisher = TokenPublisher(redis, task_id=task_id, attempt=2, interval_seconds=60)
    publisher.live("1", "half an ans")
    publisher.live("2", "A whole")
    publisher.live("2", " answer.")
    publisher.flush()
    entries: Any = redis.xrange(task_tokens_stream(task_id))
    assert [(fields[b"attempt"], fields[b"text"]) for _id, fields in entries] == [
        (b"2.1", b"half an ans"),
        (b"2.2", b"A whole answer."),
    ]


def test_an_unreachable_redis_never_raises() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens there
    publisher = TokenPublisher(
        Redis(host="127.0.0.1", port=port, socket_connect_timeout=1), task_id="t", attempt=1, interval_seconds=0
    )
    publisher.add("a piece")
    publisher.add("another")
    publisher.flush()
