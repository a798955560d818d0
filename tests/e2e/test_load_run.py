"""A small bounded load run through the real WhatsApp path (`python -m bench.load`, 200 messages):
nothing lost, nothing delivered twice, no 5xx, with duplicate webhook deliveries mixed in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.load import run_load
from tests.support.redis_server import RedisServer


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.destroy()


@pytest.mark.fault
def test_200_messages_at_40_per_second_lose_nothing_and_answer_once(tmp_path: Path, own_redis: RedisServer) -> None:
    report = run_load(
        directory=tmp_path, redis_url=own_redis.url, messages=200, rate=40.0, workers=2, drain_timeout_seconds=240
    )
    print(report.markdown())
    assert report.deliveries == 200 + 2 * 10  # every 20th message delivered three times
    assert report.accepted == 200
    assert report.status_5xx == report.transport_errors == report.other_non_2xx == 0
    assert report.lost == 0 and report.duplicated == 0
    assert report.gateway_5xx == 0
    assert report.gateway_tasks == 200  # the duplicates made no second task
