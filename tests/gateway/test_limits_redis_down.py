"""With Redis down, rate-limited and idempotent requests are refused with 503, never 500."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from parley_testkit.stack import Stack, start_stack
from tests.support.databases import fresh_postgres_database
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.fault


@pytest.fixture
def gateway_only(tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer) -> Iterator[Stack]:
    with fresh_postgres_database("parley_limits_down") as database_url:
        stack = start_stack(
            name="limits-redis-down",
            workdir=tmp_path_factory.mktemp("limits-redis-down"),
            database_url=database_url,
            redis_url=redis_server.url,
        )
        try:
            yield stack
        finally:
            stack.close()


def test_redis_down_is_503_and_recovers(gateway_only: Stack, redis_server: RedisServer) -> None:
    tenant_id: str = gateway_only.new_tenant()["id"]
    client = gateway_only.client_with_key(gateway_only.new_key(tenant_id, "messages:write", "tasks:read"))
    message = {"channel": "web", "chat_id": "down", "user": {"id": "u"}, "text": "Hello?"}
    assert client.get(f"/api/v1/tasks/{uuid.uuid4().hex}").status_code == 404

    redis_server.kill()
    try:
        read = client.get(f"/api/v1/tasks/{uuid.uuid4().hex}")
        assert read.status_code == 503, read.text
        assert read.headers["Retry-After"]
        plain = client.post("/api/v1/messages", json=message)
        assert plain.status_code == 503, plain.text
        keyed = client.post("/api/v1/messages", json=message, headers={"Idempotency-Key": "down-1"})
        assert keyed.status_code == 503, keyed.text
        assert "retry" in keyed.json()["detail"]
    finally:
        redis_server.start()

    accepted = client.post("/api/v1/messages", json=message, headers={"Idempotency-Key": "down-1"})
    assert accepted.status_code == 202, accepted.text
