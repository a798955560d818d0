"""Helpers of the admin API tests: a tenant with an admin key and a partner key, asking and waiting."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from parley_testkit.fake_llm import FakeLLM
from parley_testkit.stack import Stack


@dataclass
class TenantKeys:
    id: str
    admin: httpx.Client
    partner: httpx.Client

    def url(self, path: str) -> str:
        return f"/api/v1/admin/tenants/{self.id}{path}"


def new_tenant(stack: Stack, **settings: Any) -> TenantKeys:
    tenant = stack.new_tenant(settings=settings or None)
    return TenantKeys(
        id=tenant["id"],
        admin=stack.client_with_key(stack.new_key(tenant["id"], "admin")),
        partner=stack.client_with_key(stack.new_key(tenant["id"], "messages:write", "tasks:read")),
    )


def post_message(tenant: TenantKeys, text: str, *, chat_id: str | None = None) -> dict[str, Any]:
    accepted = tenant.partner.post(
        "/api/v1/messages",
        json={"channel": "web", "chat_id": chat_id or uuid.uuid4().hex[:8], "user": {"id": "u1"}, "text": text},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert accepted.status_code == 202, accepted.text
    result: dict[str, Any] = accepted.json()
    return result


def wait_task(tenant: TenantKeys, task_id: str, *, wait: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + wait
    while True:
        task: dict[str, Any] = tenant.partner.get(f"/api/v1/tasks/{task_id}", params={"wait": 10}).json()
        if task["status"] in ("done", "failed") or time.monotonic() > deadline:
            return task


def ask(tenant: TenantKeys, text: str, *, chat_id: str | None = None) -> dict[str, Any]:
    return wait_task(tenant, post_message(tenant, text, chat_id=chat_id)["task_id"])


def llm_request_for(llm: FakeLLM, marker: str) -> dict[str, Any]:
    """The last request the scripted LLM received whose question contains `marker`."""
    found = [r for r in llm.requests if marker in r["messages"][-1]["content"]]
    assert found, f"the LLM never received {marker!r}"
    return found[-1]
