"""The daily token quota, counted from the tokens a real worker reports when it completes a task
(the partner stack: PostgreSQL, Redis, a worker on the scripted LLM)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from parley_testkit.stack import Stack


def ask(client: httpx.Client, chat_id: str) -> httpx.Response:
    return client.post(
        "/api/v1/messages",
        json={"channel": "web", "chat_id": chat_id, "user": {"id": f"u-{chat_id}"}, "text": "Do you deliver?"},
    )


def finished(client: httpx.Client, task_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        task: dict[str, Any] = client.get(f"/api/v1/tasks/{task_id}", params={"wait": 30}).json()
        if task["status"] in ("done", "failed") or time.monotonic() > deadline:
            return task


def test_token_quota_spent_by_answers_is_429(partner_stack: Stack) -> None:
    tenant_id: str = partner_stack.new_tenant(settings={"daily_token_quota": 5})["id"]
    client = partner_stack.client_with_key(partner_stack.new_key(tenant_id, "messages:write", "tasks:read"))

    accepted = ask(client, "tokens-1")
    assert accepted.status_code == 202, accepted.text
    task = finished(client, accepted.json()["task_id"])
    assert task["status"] == "done", task
    spent = task["timings"]["prompt_tokens"] + task["timings"]["completion_tokens"]
    assert spent > 5

    usage = partner_stack.client("admin").get(f"/api/v1/admin/tenants/{tenant_id}/usage").json()
    assert usage["tokens"] == spent and usage["messages"] == 1 and usage["daily_token_quota"] == 5

    refused = ask(client, "tokens-2")
    assert refused.status_code == 429
    body = refused.json()
    assert body["quota"] == "token" and body["limit"] == 5
    assert "daily token quota" in body["detail"] and "resets at" in body["detail"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 24 * 3600
    # Refused messages are not counted.
    assert partner_stack.client("admin").get(f"/api/v1/admin/tenants/{tenant_id}/usage").json()["messages"] == 1


def test_tenants_without_a_token_quota_keep_going(partner_stack: Stack) -> None:
    tenant_id: str = partner_stack.new_tenant()["id"]
    client = partner_stack.client_with_key(partner_stack.new_key(tenant_id, "messages:write", "tasks:read"))
    for chat in ("free-1", "free-2"):
        accepted = ask(client, chat)
        assert accepted.status_code == 202, accepted.text
        assert finished(client, accepted.json()["task_id"])["status"] == "done"
    usage = partner_stack.client("admin").get(f"/api/v1/admin/tenants/{tenant_id}/usage").json()
    assert usage["messages"] == 2 and usage["tokens"] > 0 and usage["daily_token_quota"] is None
