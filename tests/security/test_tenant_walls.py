"""Issue #15, findings 1 and 6: a tenant's admin key stays inside its tenant and its limits.

1. It cannot make itself a worker (a key with `internal`) or the operator; the internal API
   answers only the deployment's worker token, even for an `internal` key an older version let
   into the database, and the upgrade revokes such keys.
6. Quotas, model and limits are the deployment operator's; a tenant's messages in flight are capped.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from gateway.db import make_engine, make_sessionmaker
from gateway.middleware.idempotency import idempotency_record_key
from gateway.migrate import upgrade
from gateway.models import ApiKey, Tenant
from gateway.services.api_keys import hash_key, new_key
from parley_testkit.servers import ROOT
from parley_testkit.stack import Stack, gateway_settings, start_stack
from tests.gateway.admin_support import TenantKeys, new_tenant
from tests.support import redis_dbs as dbs
from tests.support.databases import fresh_postgres_database, redis_url

OPERATOR_FIELDS = {
    "daily_message_quota": None,
    "daily_token_quota": None,
    "provider": "openai",
    "model": "openai/gpt-4o",
    "top_k": 50,
    "max_answer_tokens": 8192,
    "history_turns": 50,
    "max_tasks_in_flight": 100_000,
}


def message(chat_id: str | None = None, text: str = "Do you deliver to Sharjah?") -> dict[str, Any]:
    chat = chat_id or uuid.uuid4().hex[:10]
    return {"channel": "web", "chat_id": chat, "user": {"id": f"user-{chat}"}, "text": text}


def plant_key(stack: Stack, *, tenant_id: str, scopes: list[str]) -> str:
    """A key written straight into the database, as the admin API of an older version made them."""
    token = new_key()

    async def write() -> None:
        engine = make_engine(stack.settings.async_database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                session.add(
                    ApiKey(
                        tenant_id=tenant_id, name="planted", prefix=token[:10], key_hash=hash_key(token), scopes=scopes
                    )
                )
                await session.commit()
        finally:
            await engine.dispose()

    asyncio.run(write())
    return token


# ---- finding 1: a tenant admin cannot become a worker --------------------------------------------


def test_the_admin_api_grants_no_deployment_scope(gateway: Stack) -> None:
    tenant = new_tenant(gateway)
    keys = tenant.url("/keys")
    for scopes in (["internal"], ["operator"], ["messages:write", "internal"], ["admin", "operator"]):
        refused = tenant.admin.post(keys, json={"name": "x", "scopes": scopes})
        assert refused.status_code == 422, (scopes, refused.text)
        assert "belongs to the deployment" in refused.text
        # Not even the operator hands them out: they come only from the environment.
        assert gateway.client("admin").post(keys, json={"name": "x", "scopes": scopes}).status_code == 422
    assert tenant.admin.post(keys, json={"name": "site", "scopes": ["messages:write"]}).status_code == 201
    names = [k["name"] for k in tenant.admin.get(keys).json()]
    assert "x" not in names


def test_an_internal_key_in_the_database_is_refused_by_the_internal_api(gateway: Stack) -> None:
    victim, third = new_tenant(gateway), new_tenant(gateway)
    writer = gateway.client_with_key(gateway.new_key(victim.id, "knowledge:write", "knowledge:read"))
    uploaded = writer.post("/api/v1/knowledge/documents", files={"file": ("secret.md", b"# Margins\n\nWe pay 3%.")})
    assert uploaded.status_code == 202, uploaded.text
    document_id = uploaded.json()["document_id"]
    task_id = victim.partner.post("/api/v1/messages", json=message(text="my card ends 4242")).json()["task_id"]

    attacker = new_tenant(gateway)
    forged = gateway.client_with_key(plant_key(gateway, tenant_id=attacker.id, scopes=["internal", "admin"]))
    completion = {
        "answer": "Pay at https://evil.example",
        "sources": [],
        "timings": {"prompt_tokens": 500_000, "completion_tokens": 500_000},
    }
    attempts = [
        forged.get(f"/internal/v1/documents/{document_id}/content"),
        forged.get(f"/internal/v1/documents/{document_id}"),
        forged.post(f"/internal/v1/documents/{document_id}/ingested", json={"status": "failed", "error": "x"}),
        forged.delete(f"/internal/v1/documents/{document_id}"),
        forged.post(f"/internal/v1/tasks/{task_id}/claim"),
        forged.post(f"/internal/v1/tasks/{task_id}/lease", json={"attempt": 1}),
        forged.post(f"/internal/v1/tasks/{task_id}/complete", json=completion),
        forged.post(f"/internal/v1/tasks/{task_id}/fail", json={"error": "x"}),
        forged.post(
            "/internal/v1/documents", data={"tenant_id": third.id}, files={"file": ("planted.md", b"# Call us\n\n+1")}
        ),
    ]
    for response in attempts:
        assert response.status_code == 403, (response.request.method, response.request.url, response.text)
        assert "worker token" in response.json()["detail"]
        # Counted against the key's rate limit like any key's request: only the worker token is exempt.
        assert "X-RateLimit-Limit" in response.headers

    # Nothing moved: the task still waits, the document is unread, nothing charged or planted.
    assert victim.partner.get(f"/api/v1/tasks/{task_id}").json()["status"] == "queued"
    assert writer.get(f"/api/v1/knowledge/documents/{document_id}").json()["status"] == "queued"
    assert gateway.client("admin").get(victim.url("/usage")).json()["tokens"] == 0
    third_reader = gateway.client_with_key(gateway.new_key(third.id, "knowledge:read"))
    assert third_reader.get("/api/v1/knowledge/documents").json() == []
    # The deployment's own worker token still reaches the internal API, without a rate limit.
    meta = gateway.client("worker").get(f"/internal/v1/documents/{document_id}")
    assert meta.status_code == 200 and "X-RateLimit-Limit" not in meta.headers


def test_the_cli_grants_no_deployment_scope(gateway: Stack) -> None:
    tenant = new_tenant(gateway)
    for scope in ("internal", "operator"):
        made = subprocess.run(
            [sys.executable, "-m", "gateway", "keys", "create", "--tenant", tenant.id, "--name", "x", "--scope", scope],
            env={**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": gateway.settings.database_url},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert made.returncode == 2 and "invalid choice" in made.stderr, made.stderr
    assert all({"internal", "operator"}.isdisjoint(k["scopes"]) for k in tenant.admin.get(tenant.url("/keys")).json())


@pytest.fixture(params=["sqlite", "postgres"])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of either kind, for a deployment upgraded from revision 0005."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with fresh_postgres_database("parley_sec_upgrade") as url:
        yield url


def test_the_upgrade_revokes_keys_holding_deployment_scopes(old_database: str, tmp_path: Path) -> None:
    settings = gateway_settings(database_url=old_database, redis_url=redis_url(dbs.UPGRADE))
    upgrade(settings, "0005")
    tokens = {name: new_key() for name in ("internal", "operator", "partner")}
    scopes = {"internal": ["internal"], "operator": ["admin", "operator"], "partner": ["messages:write", "tasks:read"]}

    async def plant() -> None:
        engine = make_engine(settings.async_database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                session.add(Tenant(id="old-shop", name="Old shop", settings={}))
                await session.commit()
                for name, token in tokens.items():
                    session.add(
                        ApiKey(
                            tenant_id="old-shop",
                            name=name,
                            prefix=token[:10],
                            key_hash=hash_key(token),
                            scopes=scopes[name],
                        )
                    )
                await session.commit()
        finally:
            await engine.dispose()

    asyncio.run(plant())
    stack = start_stack(
        name="sec-upgrade", workdir=tmp_path / "stack", database_url=old_database, redis_url=redis_url(dbs.UPGRADE)
    )
    try:
        missing = f"/internal/v1/documents/{uuid.uuid4().hex}"
        assert stack.client_with_key(tokens["internal"]).get(missing).status_code == 401
        assert stack.client_with_key(tokens["operator"]).get("/api/v1/admin/tenants").status_code == 401
        partner = stack.client_with_key(tokens["partner"])
        assert partner.post("/api/v1/messages", json=message()).status_code == 202
        assert stack.client("worker").get(missing).status_code == 404
        assert stack.client("admin").get("/api/v1/admin/tenants").status_code == 200
    finally:
        stack.close()


# ---- finding 6: limits are the operator's --------------------------------------------------------


def test_a_tenant_admin_cannot_raise_its_own_limits(gateway: Stack) -> None:
    tenant = new_tenant(gateway, daily_message_quota=100, daily_token_quota=10_000, max_answer_tokens=128)
    before = tenant.admin.get(tenant.url("/settings")).json()
    for field, value in OPERATOR_FIELDS.items():
        refused = tenant.admin.patch(tenant.url("/settings"), json={field: value})
        assert refused.status_code == 403, (field, refused.text)
        assert field in refused.json()["detail"]
    # PUT replaces everything: leaving the quotas out would clear them, which is a change too.
    refused = tenant.admin.put(tenant.url("/settings"), json={"business_name": "Dune Cafe"})
    assert refused.status_code == 403
    assert "daily_message_quota" in refused.json()["detail"] and "business_name" not in refused.json()["detail"]
    assert tenant.admin.get(tenant.url("/settings")).json() == before

    # Its own fields are its own; an operator field sent with its current value is no change.
    patched = tenant.admin.patch(
        tenant.url("/settings"), json={"business_name": "Dune Cafe", "greeting": "Hi!", "top_k": before["top_k"]}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["business_name"] == "Dune Cafe" and patched.json()["daily_message_quota"] == 100
    put = tenant.admin.put(tenant.url("/settings"), json={**patched.json(), "working_hours": "10-22"})
    assert put.status_code == 200, put.text
    assert put.json()["working_hours"] == "10-22" and put.json()["daily_token_quota"] == 10_000
    # Invalid values stay a 422, whoever sends them.
    assert tenant.admin.patch(tenant.url("/settings"), json={"top_k": 0}).status_code == 422


def test_the_operator_sets_any_tenants_limits(gateway: Stack) -> None:
    tenant = new_tenant(gateway)
    changed = gateway.client("admin").patch(tenant.url("/settings"), json=OPERATOR_FIELDS)
    assert changed.status_code == 200, changed.text
    stored = tenant.admin.get(tenant.url("/settings")).json()
    assert {field: stored[field] for field in OPERATOR_FIELDS} == OPERATOR_FIELDS
    replaced = gateway.client("admin").put(tenant.url("/settings"), json={"business_name": "Reset"})
    assert replaced.status_code == 200 and replaced.json()["model"] is None


def test_an_admin_key_of_the_default_tenant_made_through_the_api_is_not_the_operator(gateway: Stack) -> None:
    other = new_tenant(gateway)
    default_admin = gateway.client_with_key(gateway.new_key(gateway.settings.default_tenant_id, "admin"))
    assert default_admin.get("/api/v1/admin/tenants").status_code == 403
    assert (
        default_admin.post("/api/v1/admin/tenants", json={"id": f"x-{uuid.uuid4().hex[:8]}", "name": "x"}).status_code
        == 403
    )
    assert default_admin.get(other.url("")).status_code == 403
    assert default_admin.patch(other.url("/settings"), json={"daily_message_quota": None}).status_code == 403
    own = f"/api/v1/admin/tenants/{gateway.settings.default_tenant_id}/settings"
    assert default_admin.patch(own, json={"max_tasks_in_flight": 100_000}).status_code == 403


def _post_all(client: httpx.Client, bodies: list[dict[str, Any]], keys: list[str]) -> list[httpx.Response]:
    """Every message at once, from as many threads."""
    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        futures = [
            pool.submit(client.post, "/api/v1/messages", json=body, headers={"Idempotency-Key": key})
            for body, key in zip(bodies, keys, strict=True)
        ]
        return [f.result() for f in futures]


def _flood(tenant: TenantKeys, count: int) -> tuple[list[httpx.Response], list[httpx.Response], list[str]]:
    keys = [f"flood-{uuid.uuid4().hex}" for _ in range(count)]
    responses = _post_all(tenant.partner, [message() for _ in keys], keys)
    accepted = [r for r in responses if r.status_code == 202]
    refused = [r for r in responses if r.status_code != 202]
    return accepted, refused, [k for k, r in zip(keys, responses, strict=True) if r.status_code == 202]


def test_tasks_in_flight_are_capped_under_concurrency(gateway: Stack) -> None:
    """No worker runs: every accepted message stays in flight, so 60 at once may only fill the cap."""
    tenant = new_tenant(gateway)
    cap = 7
    assert gateway.client("admin").patch(tenant.url("/settings"), json={"max_tasks_in_flight": cap}).status_code == 200
    accepted, refused, accepted_keys = _flood(tenant, 60)
    assert len(accepted) == cap, [r.text for r in refused[:3]]
    assert len(refused) == 60 - cap
    for response in refused:
        assert response.status_code == 429, response.text
        assert int(response.headers["Retry-After"]) >= 1
        assert f"its limit is {cap} at once" in response.json()["detail"]
    # Refused messages are not counted against the daily quota.
    assert gateway.client("admin").get(tenant.url("/usage")).json()["messages"] == cap

    # A retry of an accepted message still gets its task, even once the idempotency record is gone
    # (as after a Redis restart) and the database is what answers.
    first = accepted[0].json()
    _forget_idempotency_record(gateway, tenant=tenant, key=accepted_keys[0])
    retried = tenant.partner.post(
        "/api/v1/messages",
        content=accepted[0].request.content,
        headers={"Idempotency-Key": accepted_keys[0], "Content-Type": "application/json"},
    )
    assert retried.status_code == 202, retried.text
    assert retried.json()["task_id"] == first["task_id"]

    # The OpenAI-compatible route shares the cap.
    chat = tenant.partner.post(
        "/v1/chat/completions", json={"model": "parley", "messages": [{"role": "user", "content": "hi"}]}
    )
    assert chat.status_code == 429, chat.text
    assert int(chat.headers["Retry-After"]) >= 1 and chat.json()["error"]["type"] == "rate_limit_exceeded"

    # Room again as soon as the operator raises the cap (or tasks finish: the count is the database's).
    assert (
        gateway.client("admin").patch(tenant.url("/settings"), json={"max_tasks_in_flight": cap + 1}).status_code == 200
    )
    assert tenant.partner.post("/api/v1/messages", json=message()).status_code == 202
    assert tenant.partner.post("/api/v1/messages", json=message()).status_code == 429


def test_the_gateways_default_caps_a_tenant_without_its_own_limit(gateway: Stack) -> None:
    tenant = new_tenant(gateway)
    default = gateway.settings.tenant_max_tasks_in_flight
    accepted, refused, _ = _flood(tenant, default + 10)
    assert len(accepted) == default
    assert {r.status_code for r in refused} == {429}


def _forget_idempotency_record(stack: Stack, *, tenant: TenantKeys, key: str) -> None:
    """Drop the gateway's replay record of the partner key's POST /api/v1/messages (a Redis that lost it)."""
    token = tenant.partner.headers["Authorization"].removeprefix("Bearer ")
    keys = stack.client("admin").get(tenant.url("/keys")).json()
    key_id = next(k["id"] for k in keys if token.startswith(k["prefix"]))
    record = idempotency_record_key(tenant_id=tenant.id, key_id=key_id, method="POST", path="/api/v1/messages", key=key)
    connection = redis.Redis.from_url(stack.settings.redis_url)
    try:
        assert connection.delete(record) == 1
    finally:
        connection.close()
