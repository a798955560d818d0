"""Failed tasks: listed with their error, requeued (then answered), discarded."""

from __future__ import annotations

import uuid

from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.stack import Stack
from tests.gateway.admin_support import ask, new_tenant, wait_task


def test_failed_task_is_listed_requeued_and_answered(partner_stack: Stack, partner_llm: FakeLLM) -> None:
    tenant = new_tenant(partner_stack)
    marker = uuid.uuid4().hex
    rule = Rule(when=marker, status=500)
    partner_llm.add(rule)
    try:
        failed = ask(tenant, f"why? {marker}")
        assert failed["status"] == "failed", failed
        page = tenant.admin.get(tenant.url("/tasks/failed")).json()
        assert page["total"] == 1
        [item] = page["items"]
        assert item["task_id"] == failed["task_id"] and "HTTP 500" in item["error"] and item["attempts"] >= 1
    finally:
        with partner_llm._lock:
            partner_llm.rules.remove(rule)

    requeued = tenant.admin.post(tenant.url(f"/tasks/{failed['task_id']}/requeue"))
    assert requeued.status_code == 202, requeued.text
    assert requeued.json()["status"] == "queued" and requeued.json()["error"] is None
    done = wait_task(tenant, failed["task_id"])
    assert done["status"] == "done" and done["answer"]
    assert tenant.admin.get(tenant.url("/tasks/failed")).json()["total"] == 0
    # Only a failed task can be requeued or discarded.
    assert tenant.admin.post(tenant.url(f"/tasks/{failed['task_id']}/requeue")).status_code == 409
    assert tenant.admin.post(tenant.url(f"/tasks/{failed['task_id']}/discard")).status_code == 409


def test_discard_hides_a_failed_task(partner_stack: Stack, partner_llm: FakeLLM) -> None:
    tenant = new_tenant(partner_stack)
    markers = [uuid.uuid4().hex, uuid.uuid4().hex]
    rules = [Rule(when=m, status=500) for m in markers]
    for rule in rules:
        partner_llm.add(rule)
    try:
        tasks = [ask(tenant, f"question {m}") for m in markers]
    finally:
        with partner_llm._lock:
            for rule in rules:
                partner_llm.rules.remove(rule)
    assert [t["status"] for t in tasks] == ["failed", "failed"]
    page = tenant.admin.get(tenant.url("/tasks/failed")).json()
    assert [i["task_id"] for i in page["items"]] == [tasks[1]["task_id"], tasks[0]["task_id"]]  # newest first
    assert (
        tenant.admin.get(tenant.url("/tasks/failed"), params={"limit": 1, "offset": 1}).json()["items"][0]["task_id"]
        == tasks[0]["task_id"]
    )

    assert tenant.admin.post(tenant.url(f"/tasks/{tasks[0]['task_id']}/discard")).status_code == 200
    page = tenant.admin.get(tenant.url("/tasks/failed")).json()
    assert page["total"] == 1 and page["items"][0]["task_id"] == tasks[1]["task_id"]
    assert tenant.admin.post(tenant.url("/tasks/nope/discard")).status_code == 404
    other = new_tenant(partner_stack)
    assert other.admin.post(other.url(f"/tasks/{tasks[1]['task_id']}/requeue")).status_code == 404
