"""PostgreSQL stopped under the gateway: 503 with a clear body, never 500; recovery by itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from parley_testkit.stack import Stack, start_stack
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url
from tests.support.postgres_cluster import PostgresCluster

pytestmark = pytest.mark.fault


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    cluster.start()
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="module")
def gateway_only(tmp_path_factory: pytest.TempPathFactory, cluster: PostgresCluster) -> Iterator[Stack]:
    stack = start_stack(
        name="pg-outage",
        workdir=tmp_path_factory.mktemp("pg-outage"),
        database_url=cluster.url,
        redis_url=redis_url(dbs.DATABASE_OUTAGE),
    )
    yield stack
    stack.close()


def post(stack: Stack, key: str) -> tuple[int, dict[str, object]]:
    response = stack.client().post(
        "/api/v1/messages",
        json={"channel": "web", "chat_id": "outage", "user": {"id": "u"}, "text": "Hello?"},
        headers={"Idempotency-Key": key},
    )
    return response.status_code, response.json()


def test_database_down_is_503_and_recovers(gateway_only: Stack, cluster: PostgresCluster) -> None:
    status, before = post(gateway_only, "outage-1")
    assert status == 202

    cluster.stop()
    try:
        status, body = post(gateway_only, "outage-2")
        assert status == 503, body
        assert "database is unavailable" in str(body["detail"])
        task = gateway_only.client().get(f"/api/v1/tasks/{before['task_id']}")
        assert task.status_code == 503
        # The operator's ADMIN_TOKEN sees why without the database (issue #15: details are the operators').
        ready = gateway_only.client("admin").get("/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"].startswith("unavailable")
    finally:
        cluster.start()

    status, after = post(gateway_only, "outage-2")
    assert status == 202, after
    assert gateway_only.client().get(f"/api/v1/tasks/{before['task_id']}").status_code == 200
