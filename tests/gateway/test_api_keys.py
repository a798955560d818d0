"""API keys and tenants (issue #5): hashed keys shown once, scopes, revocation, tenant isolation, CLI."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

from sqlmodel import select

from gateway.auth import Scope
from gateway.db import make_engine, make_sessionmaker
from gateway.models import ApiKey
from gateway.services.api_keys import ensure_managed_key, hash_key
from parley_testkit.servers import ROOT
from parley_testkit.stack import Stack


def message(chat_id: str = "chat-k") -> dict[str, Any]:
    return {"channel": "web", "chat_id": chat_id, "user": {"id": "u-k"}, "text": "Do you deliver to Sharjah?"}


def test_a_new_key_works_until_revoked_then_401(partner_stack: Stack) -> None:
    tenant = partner_stack.new_tenant()
    key = partner_stack.new_key(tenant["id"], "messages:write", "tasks:read")
    assert key.startswith("pk_") and len(key) > 40
    client = partner_stack.client_with_key(key)
    accepted = client.post("/api/v1/messages", json=message())
    assert accepted.status_code == 202, accepted.text
    assert client.get(f"/api/v1/tasks/{accepted.json()['task_id']}").status_code == 200

    admin = partner_stack.client("admin")
    listed = admin.get(f"/api/v1/admin/tenants/{tenant['id']}/keys").json()
    assert len(listed) == 1 and listed[0]["prefix"] == key[:10]
    assert "key" not in listed[0] and "key_hash" not in listed[0]  # shown once, never again
    revoked = admin.delete(f"/api/v1/admin/tenants/{tenant['id']}/keys/{listed[0]['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None

    refused = client.post("/api/v1/messages", json=message())
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert admin.get(f"/api/v1/admin/tenants/{tenant['id']}/keys").json() == []
    assert len(admin.get(f"/api/v1/admin/tenants/{tenant['id']}/keys", params={"include_revoked": True}).json()) == 1


def test_a_key_without_the_scope_is_403(partner_stack: Stack) -> None:
    tenant = partner_stack.new_tenant()
    reader = partner_stack.client_with_key(partner_stack.new_key(tenant["id"], "tasks:read"))
    response = reader.post("/api/v1/messages", json=message())
    assert response.status_code == 403
    assert "messages:write" in response.json()["detail"]
    upload = reader.post("/api/v1/knowledge/documents", files={"file": ("a.md", b"# A\n\ntext")})
    assert upload.status_code == 403


def test_keys_see_only_their_own_tenant(partner_stack: Stack) -> None:
    first, second = partner_stack.new_tenant(), partner_stack.new_tenant()
    first_client = partner_stack.client_with_key(
        partner_stack.new_key(first["id"], "messages:write", "tasks:read", "conversations:read")
    )
    second_client = partner_stack.client_with_key(
        partner_stack.new_key(second["id"], "tasks:read", "conversations:read")
    )
    accepted = first_client.post("/api/v1/messages", json=message()).json()
    assert second_client.get(f"/api/v1/tasks/{accepted['task_id']}").status_code == 404
    transcript = f"/api/v1/conversations/{accepted['conversation_id']}/messages"
    assert second_client.get(transcript).status_code == 404
    assert first_client.get(transcript).status_code == 200


def test_a_tenant_admin_manages_only_its_own_tenant(partner_stack: Stack) -> None:
    first, second = partner_stack.new_tenant(), partner_stack.new_tenant()
    tenant_admin = partner_stack.client_with_key(partner_stack.new_key(first["id"], "admin"))
    own = tenant_admin.post(
        f"/api/v1/admin/tenants/{first['id']}/keys", json={"name": "site", "scopes": ["tasks:read"]}
    )
    assert own.status_code == 201
    other = tenant_admin.post(f"/api/v1/admin/tenants/{second['id']}/keys", json={"name": "steal", "scopes": ["admin"]})
    assert other.status_code == 403
    assert tenant_admin.get("/api/v1/admin/tenants").status_code == 403
    assert tenant_admin.post("/api/v1/admin/tenants", json={"id": "mine-too", "name": "x"}).status_code == 403
    assert partner_stack.client("admin").get(f"/api/v1/admin/tenants/{second['id']}").status_code == 200


def test_tenant_creation_validates_and_refuses_duplicates(partner_stack: Stack) -> None:
    admin = partner_stack.client("admin")
    tenant = partner_stack.new_tenant()
    assert tenant["callback_secret"].startswith("whsec_")
    duplicate = admin.post("/api/v1/admin/tenants", json={"id": tenant["id"], "name": "again"})
    assert duplicate.status_code == 409
    assert admin.post("/api/v1/admin/tenants", json={"id": "Not Valid!", "name": "x"}).status_code == 422
    bad_scope = admin.post(f"/api/v1/admin/tenants/{tenant['id']}/keys", json={"name": "k", "scopes": ["root"]})
    assert bad_scope.status_code == 422
    no_scope = admin.post(f"/api/v1/admin/tenants/{tenant['id']}/keys", json={"name": "k", "scopes": []})
    assert no_scope.status_code == 422
    assert admin.get("/api/v1/admin/tenants/no-such-tenant").status_code == 404


def test_a_disabled_tenant_keys_are_401_until_enabled(partner_stack: Stack) -> None:
    tenant = partner_stack.new_tenant()
    client = partner_stack.client_with_key(partner_stack.new_key(tenant["id"], "messages:write"))
    admin = partner_stack.client("admin")
    assert admin.patch(f"/api/v1/admin/tenants/{tenant['id']}", json={"disabled": True}).json()["disabled"] is True
    assert client.post("/api/v1/messages", json=message()).status_code == 401
    admin.patch(f"/api/v1/admin/tenants/{tenant['id']}", json={"disabled": False})
    assert client.post("/api/v1/messages", json=message()).status_code == 202


def _cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": stack.settings.database_url, "PARLEY_ENV": "test"},
        cwd=stack.workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_creates_lists_and_revokes_keys(partner_stack: Stack) -> None:
    made = _cli(partner_stack, "tenants", "create", "cli-shop", "--name", "CLI Shop")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["callback_secret"].startswith("whsec_")
    assert _cli(partner_stack, "tenants", "create", "cli-shop").returncode == 1  # exists

    created = _cli(
        partner_stack, "keys", "create", "--tenant", "cli-shop", "--name", "site", "--scope", "messages:write"
    )
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)
    client = partner_stack.client_with_key(key["key"])
    assert client.post("/api/v1/messages", json=message("cli-chat")).status_code == 202

    listed = json.loads(_cli(partner_stack, "keys", "list", "--tenant", "cli-shop").stdout)
    assert [k["id"] for k in listed] == [key["id"]] and "key" not in listed[0]
    revoked = _cli(partner_stack, "keys", "revoke", key["id"], "--tenant", "cli-shop")
    assert revoked.returncode == 0, revoked.stderr
    assert client.post("/api/v1/messages", json=message("cli-chat")).status_code == 401
    assert _cli(partner_stack, "keys", "list", "--tenant", "nobody").returncode == 1


def test_environment_tokens_are_managed_keys_and_a_changed_token_revokes_the_old(partner_stack: Stack) -> None:
    async def rotate() -> list[ApiKey]:
        engine = make_engine(partner_stack.settings.async_database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                for token in ("first-ops-token", "second-ops-token"):
                    await ensure_managed_key(
                        session, tenant_id="default", name="ops", token=token, scopes=[Scope.tasks_read]
                    )
                rows = await session.exec(select(ApiKey).where(ApiKey.name == "ops"))
                return list(rows.all())
        finally:
            await engine.dispose()

    keys = {k.key_hash: k for k in asyncio.run(rotate())}
    assert keys[hash_key("first-ops-token")].revoked_at is not None
    assert keys[hash_key("second-ops-token")].revoked_at is None
    assert partner_stack.client_with_key("first-ops-token").get("/api/v1/tasks/x").status_code == 401
    assert partner_stack.client_with_key("second-ops-token").get("/api/v1/tasks/x").status_code == 404
    # The service token of the environment is a key of the default tenant like any other.
    service = [k for k in asyncio.run(_default_keys(partner_stack)) if k.name == "service"]
    assert len(service) == 1 and service[0].managed and "messages:write" in service[0].scopes


async def _default_keys(stack: Stack) -> list[ApiKey]:
    engine = make_engine(stack.settings.async_database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            return list((await session.exec(select(ApiKey).where(ApiKey.tenant_id == "default"))).all())
    finally:
        await engine.dispose()
