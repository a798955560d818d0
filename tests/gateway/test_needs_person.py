"""needs_person and answer_path stored with the task (migration 0007), shown to the partner and
listed/filtered by the tenant's admin, on SQLite and PostgreSQL: a gateway without a worker, the
worker's side played over the real internal API with the worker token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from parley_testkit.stack import Stack
from tests.gateway.admin_support import TenantKeys, new_tenant, post_message
from tests.support import redis_dbs as dbs
from tests.support.gateways import gateway_only


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def gateway(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = Path(tmp_path_factory.mktemp(f"needs-person-{request.param}"))
    redis_db = dbs.NEEDS_PERSON_SQLITE if request.param == "sqlite" else dbs.NEEDS_PERSON_POSTGRES
    with gateway_only(
        name=f"needs-person-{request.param}", workdir=workdir, database=request.param, redis_db=redis_db
    ) as stack:
        yield stack


def answered(stack: Stack, tenant: TenantKeys, text: str, *, path: str, needs_person: bool) -> str:
    """Post a message and finish its task as a worker would, with this path and needs_person."""
    task_id: str = post_message(tenant, text)["task_id"]
    worker = stack.client("worker")
    claim = worker.post(f"/internal/v1/tasks/{task_id}/claim")
    assert claim.status_code == 200, claim.text
    completion: dict[str, Any] = {
        "answer": f"answer to {text}",
        "sources": [],
        "timings": {"answer_path": path, "total_ms": 12.5},
        "needs_person": needs_person,
        "attempt": claim.json()["attempt"],
    }
    stored = worker.post(f"/internal/v1/tasks/{task_id}/complete", json=completion)
    assert stored.status_code == 200 and stored.json() == {"stored": True}, stored.text
    return task_id


def test_the_task_says_which_path_answered_and_whether_a_person_must_reply(gateway: Stack) -> None:
    tenant = new_tenant(gateway)
    fallback = answered(gateway, tenant, "do you sell used cars", path="fallback", needs_person=True)
    extractive = answered(gateway, tenant, "cash on delivery limit", path="extractive", needs_person=False)

    shown = tenant.partner.get(f"/api/v1/tasks/{fallback}").json()
    assert (shown["status"], shown["needs_person"], shown["timings"]["answer_path"]) == ("done", True, "fallback")
    shown = tenant.partner.get(f"/api/v1/tasks/{extractive}").json()
    assert (shown["needs_person"], shown["timings"]["answer_path"]) == (False, "extractive")
    queued = tenant.partner.get(f"/api/v1/tasks/{post_message(tenant, 'still waiting')['task_id']}").json()
    assert queued["needs_person"] is False and queued["timings"]["answer_path"] is None


def test_the_admin_lists_and_filters_tasks_on_needs_person(gateway: Stack) -> None:
    tenant = new_tenant(gateway)
    first = answered(gateway, tenant, "q1", path="fallback", needs_person=True)
    answered(gateway, tenant, "q2", path="generated", needs_person=False)
    second = answered(gateway, tenant, "q3", path="fallback", needs_person=True)
    waiting = post_message(tenant, "q4")["task_id"]

    page = tenant.admin.get(tenant.url("/tasks"), params={"needs_person": "true"}).json()
    assert page["total"] == 2
    assert [t["task_id"] for t in page["items"]] == [second, first]  # newest first
    assert all(t["needs_person"] and t["timings"]["answer_path"] == "fallback" for t in page["items"])
    assert tenant.admin.get(tenant.url("/tasks"), params={"needs_person": "false"}).json()["total"] == 2
    assert tenant.admin.get(tenant.url("/tasks")).json()["total"] == 4
    queued = tenant.admin.get(tenant.url("/tasks"), params={"status": "queued"}).json()
    assert [t["task_id"] for t in queued["items"]] == [waiting]
    one = tenant.admin.get(tenant.url("/tasks"), params={"needs_person": "true", "limit": 1, "offset": 1}).json()
    assert [t["task_id"] for t in one["items"]] == [first] and one["total"] == 2

    # Bad filters are a 422, never a 500; another tenant's admin sees none of it.
    for bad in ({"needs_person": "maybe"}, {"status": "lost"}, {"limit": 0}, {"offset": -1}):
        assert tenant.admin.get(tenant.url("/tasks"), params=bad).status_code == 422, bad
    other = new_tenant(gateway)
    assert other.admin.get(tenant.url("/tasks")).status_code in (403, 404)
    assert other.admin.get(other.url("/tasks"), params={"needs_person": "true"}).json() == {"items": [], "total": 0}
    assert tenant.partner.get(tenant.url("/tasks")).status_code == 403  # a partner key is no admin
