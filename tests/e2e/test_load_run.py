"""A small bounded load run through the real WhatsApp path (`python -m bench.load`): nothing lost,
nothing delivered twice, no 5xx, with duplicate webhook deliveries mixed in.

100 messages at 40 per second in `make test`; 200, as before, at full depth (`PARLEY_TEST_DEPTH=full`,
run by `python -m bench.fulldepth`). The long run of docs/RELIABILITY.md is `python -m bench.load`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.load import run_load
from tests.support.depth import sized
from tests.support.redis_server import RedisServer

MESSAGES = sized(ci=100, full=200)
DUPLICATE_EVERY = 20  # every 20th message delivered three times


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.destroy()


@pytest.mark.fault
def test_messages_at_40_per_second_lose_nothing_and_answer_once(tmp_path: Path, own_redis: RedisServer) -> None:
    report = run_load(
        directory=tmp_path,
        redis_url=own_redis.url,
        messages=MESSAGES,
        rate=40.0,
        workers=2,
        duplicate_every=DUPLICATE_EVERY,
        drain_timeout_seconds=240,
    )
    print(report.markdown())
    assert report.deliveries == MESSAGES + 2 * (MESSAGES // DUPLICATE_EVERY)
    assert report.accepted == MESSAGES
    assert report.status_5xx == report.transport_errors == report.other_non_2xx == 0
    assert report.lost == 0 and report.duplicated == 0
    assert report.gateway_5xx == 0
    assert report.gateway_tasks == MESSAGES  # the duplicates made no second task
