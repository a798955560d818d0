"""Tenant settings through the admin API; the worker applies them to the next answer."""

from __future__ import annotations

import uuid

from parley_testkit.fake_llm import FakeLLM
from parley_testkit.stack import Stack
from tests.gateway.admin_support import ask, llm_request_for, new_tenant


def test_settings_reach_the_llm_request(partner_stack: Stack, partner_llm: FakeLLM) -> None:
    tenant = new_tenant(partner_stack)
    # The model and top_k are the deployment operator's to set (ADMIN_TOKEN), not the tenant's admin's.
    operator = partner_stack.client("admin")
    put = operator.put(
        tenant.url("/settings"),
        json={
            "business_name": "Dune Cafe",
            "model": "tenant-model-x",
            "temperature": 0.7,
            "top_k": 2,
            "working_hours": "Sat-Thu 10:00-22:00 GST",
            "languages": ["en", "ar"],
        },
    )
    assert put.status_code == 200, put.text
    assert put.json()["model"] == "tenant-model-x" and put.json()["history_turns"] == 6  # defaults filled in
    marker = uuid.uuid4().hex
    assert ask(tenant, f"are you open on Friday? {marker}")["status"] == "done"
    request = llm_request_for(partner_llm, marker)
    assert request["model"] == "tenant-model-x"
    assert request["temperature"] == 0.7
    system = request["messages"][0]["content"]
    assert "Sat-Thu 10:00-22:00 GST" in system and "en, ar" in system and "Dune Cafe" in system

    patched = tenant.admin.patch(tenant.url("/settings"), json={"temperature": 0.1, "working_hours": None})
    assert patched.status_code == 200, patched.text
    settings = tenant.admin.get(tenant.url("/settings")).json()
    assert settings["temperature"] == 0.1 and settings["working_hours"] is None
    assert settings["model"] == "tenant-model-x" and settings["business_name"] == "Dune Cafe"

    # PUT replaces: what is left out returns to its default.
    assert operator.put(tenant.url("/settings"), json={"business_name": "Dune Cafe"}).json()["model"] is None
    marker = uuid.uuid4().hex
    ask(tenant, f"menu? {marker}")
    assert llm_request_for(partner_llm, marker)["model"] != "tenant-model-x"


def test_a_provider_this_worker_did_not_load_fails_the_task_clearly(partner_stack: Stack) -> None:
    tenant = new_tenant(partner_stack)
    operator = partner_stack.client("admin")
    assert operator.patch(tenant.url("/settings"), json={"provider": "llamacpp"}).status_code == 200
    task = ask(tenant, "hello")
    assert task["status"] == "failed"
    assert "'llamacpp' is not loaded in this worker" in task["error"]


def test_invalid_settings_are_422(partner_stack: Stack) -> None:
    tenant = new_tenant(partner_stack)
    for body in (
        {"colour": "red"},
        {"temperature": 5},
        {"top_k": 0},
        {"provider": "anthropic"},
        {"daily_message_quota": -1},
        {"languages": "en"},
    ):
        assert tenant.admin.put(tenant.url("/settings"), json=body).status_code == 422, body
        assert tenant.admin.patch(tenant.url("/settings"), json=body).status_code == 422, body
    assert tenant.admin.patch(tenant.url("/settings"), json={"top_k": None}).status_code == 422
    assert tenant.admin.get(tenant.url("/settings")).json()["top_k"] == 4  # nothing was stored
