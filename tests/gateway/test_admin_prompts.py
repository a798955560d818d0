"""Prompt versions through the admin API; the worker answers with the tenant's active version."""

from __future__ import annotations

import uuid

from parley_testkit.fake_llm import FakeLLM
from parley_testkit.stack import Stack
from tests.gateway.admin_support import ask, llm_request_for, new_tenant


def system_message(llm: FakeLLM, marker: str) -> str:
    content: str = llm_request_for(llm, marker)["messages"][0]["content"]
    return content


def test_activation_changes_the_next_answer_and_roll_back_returns(partner_stack: Stack, partner_llm: FakeLLM) -> None:
    tenant = new_tenant(partner_stack, business_name="Falcon Tyres")
    first = tenant.admin.post(
        tenant.url("/prompts"),
        json={"text": "You help the customers of {business_name}.\nRule: ALPHA-RULE", "activate": True},
    )
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1 and first.json()["active"] is True

    marker = uuid.uuid4().hex
    task = ask(tenant, f"do you fit tyres? {marker}")
    assert task["status"] == "done" and task["prompt_version"] == 1
    assert "You help the customers of Falcon Tyres." in system_message(partner_llm, marker)
    assert "ALPHA-RULE" in system_message(partner_llm, marker)

    second = tenant.admin.post(
        tenant.url("/prompts"),
        json={"text": "You help the customers of {business_name}.\nRule: BETA-RULE", "note": "beta", "activate": True},
    )
    assert second.status_code == 201 and second.json()["version"] == 2
    marker = uuid.uuid4().hex
    task = ask(tenant, f"and balancing? {marker}")
    assert task["prompt_version"] == 2
    assert "BETA-RULE" in system_message(partner_llm, marker)
    assert "ALPHA-RULE" not in system_message(partner_llm, marker)

    diff = tenant.admin.get(tenant.url("/prompts/diff"), params={"from": 1, "to": 2})
    assert diff.status_code == 200, diff.text
    assert "-Rule: ALPHA-RULE" in diff.json()["lines"] and "+Rule: BETA-RULE" in diff.json()["lines"]
    assert " You help the customers of {business_name}." in diff.json()["lines"]
    as_text = tenant.admin.get(tenant.url("/prompts/diff"), params={"from": 1, "to": 2, "format": "text"})
    assert as_text.headers["content-type"].startswith("text/x-diff") and "+Rule: BETA-RULE\n" in as_text.text

    rolled = tenant.admin.post(tenant.url("/prompts/rollback"))
    assert rolled.status_code == 200 and rolled.json()["version"] == 1
    marker = uuid.uuid4().hex
    task = ask(tenant, f"tyre pressure? {marker}")
    assert task["prompt_version"] == 1
    assert "ALPHA-RULE" in system_message(partner_llm, marker)
    assert tenant.admin.post(tenant.url("/prompts/rollback")).status_code == 409

    listed = tenant.admin.get(tenant.url("/prompts")).json()
    assert [(p["version"], p["active"]) for p in listed] == [(1, True), (2, False)]
    assert tenant.admin.post(tenant.url("/prompts/2/activate")).json()["active"] is True
    assert tenant.admin.get(tenant.url("/prompts/2")).json()["note"] == "beta"


def test_a_tenant_without_versions_answers_with_the_default_prompt(partner_stack: Stack, partner_llm: FakeLLM) -> None:
    tenant = new_tenant(partner_stack)
    marker = uuid.uuid4().hex
    assert ask(tenant, f"hello {marker}")["prompt_version"] is None
    assert "knowledge base excerpts" in system_message(partner_llm, marker)
    assert tenant.admin.post(tenant.url("/prompts/rollback")).status_code == 409


def test_bad_templates_and_unknown_versions_are_refused(partner_stack: Stack) -> None:
    tenant = new_tenant(partner_stack)
    for text in ("Hi {customer_name}", "Hi {business_name", "Hi {}", "Hi {business_name.upper}", "odd } brace"):
        response = tenant.admin.post(tenant.url("/prompts"), json={"text": text})
        assert response.status_code == 422, (text, response.text)
    assert tenant.admin.post(tenant.url("/prompts"), json={"text": "x", "extra": 1}).status_code == 422
    ok = tenant.admin.post(tenant.url("/prompts"), json={"text": "Literal {{braces}} for {business_name}"})
    assert ok.status_code == 201 and ok.json()["active"] is False
    assert tenant.admin.get(tenant.url("/prompts/7")).status_code == 404
    assert tenant.admin.get(tenant.url("/prompts/diff"), params={"from": 1, "to": 9}).status_code == 404


def test_an_admin_key_of_one_tenant_gets_403_on_another(partner_stack: Stack) -> None:
    mine, theirs = new_tenant(partner_stack), new_tenant(partner_stack)
    for method, path in (
        ("GET", "/prompts"),
        ("POST", "/prompts/rollback"),
        ("GET", "/settings"),
        ("GET", "/tasks/failed"),
        ("GET", "/conversations"),
    ):
        assert mine.admin.request(method, theirs.url(path)).status_code == 403, path
    assert mine.partner.get(mine.url("/prompts")).status_code == 403  # a key without the admin scope
