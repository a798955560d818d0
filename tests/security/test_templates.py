"""Issue #15, finding 4: prompt templates must not evaluate format specs, conversions or attributes.

A prompt version `Hi {business_name:>200000000}` made the gateway build a 200 MB string while checking it,
and `system_prompt` in the tenant settings was not checked at all (`{business_name.__class__.__mro__}`
reached the worker's `str.format`). Only bare `{business_name}` / `{language_hint}` and doubled braces
are templates now: anything else is a 422, on both databases.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from gateway.db import make_engine, make_sessionmaker
from gateway.migrate import upgrade
from gateway.models import PromptVersion, Tenant
from parley_testkit.fake_llm import FakeLLM
from parley_testkit.stack import Stack
from tests.gateway.admin_support import ask, llm_request_for, new_tenant, post_message

HUGE_PADDING = "Hi {business_name:>200000000}"
#: Each is refused: a format spec, attribute walks, a conversion, an index, an unknown name, stray braces.
BAD_TEMPLATES = [
    HUGE_PADDING,
    "{business_name.__class__}",
    "{business_name.__class__.__mro__}",
    "Hi {business_name!r}",
    "Hi {business_name[0]}",
    "Hi {customer_name}",
    "Hi {}",
    "Hi {0}",
    "Hi { business_name }",
    "odd } brace",
    "Hi {business_name",
]
GOOD_TEMPLATE = "Literal {{braces}} and {{{business_name}}} for {business_name}{language_hint}."


def _detail(response_json: dict[str, object]) -> str:
    return str(response_json["detail"])


def test_a_huge_format_spec_in_a_prompt_version_is_a_quick_422(gateway: Stack) -> None:
    tenant = new_tenant(gateway)
    started = time.monotonic()
    response = tenant.admin.post(tenant.url("/prompts"), json={"text": HUGE_PADDING, "activate": True})
    elapsed = time.monotonic() - started
    assert response.status_code == 422, response.text[:500]
    assert "unsupported placeholder '{business_name:>200000000}'" in _detail(response.json())
    assert "no format spec" in _detail(response.json())
    assert elapsed < 5, f"checking the template took {elapsed:.1f} s"  # generous: the point is nothing is built
    assert tenant.admin.get(tenant.url("/prompts")).json() == []


@pytest.mark.parametrize("template", BAD_TEMPLATES)
def test_a_prompt_version_that_is_not_a_plain_template_is_refused(gateway: Stack, template: str) -> None:
    tenant = new_tenant(gateway)
    response = tenant.admin.post(tenant.url("/prompts"), json={"text": template})
    assert response.status_code == 422, (template, response.text[:500])
    assert response.json()["detail"][0]["loc"] == ["body", "text"]


@pytest.mark.parametrize("method", ["put", "patch"])
def test_system_prompt_in_the_settings_is_checked_like_a_prompt_version(gateway: Stack, method: str) -> None:
    tenant = new_tenant(gateway)
    send = getattr(tenant.admin, method)
    for template in BAD_TEMPLATES:
        response = send(tenant.url("/settings"), json={"business_name": "Dune", "system_prompt": template})
        assert response.status_code == 422, (template, response.text[:500])
        assert response.json()["detail"][0]["loc"][-1] == "system_prompt", response.text[:500]
    stored = tenant.admin.get(tenant.url("/settings")).json()
    assert stored["system_prompt"] is None and stored["business_name"] == "our shop"  # nothing was stored


def test_a_new_tenant_with_a_bad_system_prompt_is_refused(gateway: Stack) -> None:
    operator = gateway.client("admin")
    for template in ("{business_name.__class__.__mro__}", HUGE_PADDING):
        response = operator.post(
            "/api/v1/admin/tenants",
            json={"id": "bad-template", "name": "Bad template", "settings": {"system_prompt": template}},
        )
        assert response.status_code == 422, (template, response.text[:500])
        assert response.json()["detail"][0]["loc"] == ["body", "settings", "system_prompt"]
    assert operator.get("/api/v1/admin/tenants/bad-template").status_code == 404


def test_plain_templates_are_still_accepted_everywhere(gateway: Stack) -> None:
    tenant = new_tenant(gateway)
    created = tenant.admin.post(tenant.url("/prompts"), json={"text": GOOD_TEMPLATE})
    assert created.status_code == 201, created.text
    assert created.json()["text"] == GOOD_TEMPLATE
    for method in ("put", "patch"):
        response = getattr(tenant.admin, method)(tenant.url("/settings"), json={"system_prompt": GOOD_TEMPLATE})
        assert response.status_code == 200, response.text
    assert tenant.admin.get(tenant.url("/settings")).json()["system_prompt"] == GOOD_TEMPLATE
    assert tenant.admin.patch(tenant.url("/settings"), json={"system_prompt": None}).status_code == 200
    with_prompt = gateway.new_tenant(settings={"system_prompt": "You help {business_name}."})
    assert with_prompt["settings"]["system_prompt"] == "You help {business_name}."


LEGACY = "Help {business_name}: {business_name.__class__.__mro__} {business_name:>9} {{ok}}"


def _plant(stack: Stack, tenant_id: str, *, system_prompt: str | None = None, version: str | None = None) -> None:
    """Write a template straight into the database, as a deployment from before the check may hold it."""

    async def write() -> None:
        engine = make_engine(stack.settings.async_database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                tenant = await session.get(Tenant, tenant_id)
                assert tenant is not None
                if system_prompt is not None:
                    tenant.settings = {**tenant.settings, "system_prompt": system_prompt}
                if version is not None:
                    prompt = PromptVersion(tenant_id=tenant_id, version=1, text=version)
                    session.add(prompt)
                    await session.flush()
                    tenant.active_prompt_id = prompt.id
                session.add(tenant)
                await session.commit()
        finally:
            await engine.dispose()

    asyncio.run(write())


def test_a_system_prompt_stored_before_the_check_is_made_plain_by_migrate(gateway: Stack) -> None:
    tenant = new_tenant(gateway, business_name="Dune")
    _plant(gateway, tenant.id, system_prompt=LEGACY)
    upgrade(gateway.settings)  # `python -m gateway migrate`, run before every start
    settings = tenant.admin.get(tenant.url("/settings"))
    assert settings.status_code == 200, settings.text
    assert settings.json()["system_prompt"] == (
        "Help {business_name}: {{business_name.__class__.__mro__}} {{business_name:>9}} {{ok}}"
    )
    assert post_message(tenant, "hello")["status"] == "queued"  # the tenant is still served


def test_the_worker_renders_a_stored_template_literally(partner_stack: Stack, partner_llm: FakeLLM) -> None:
    tenant = new_tenant(partner_stack, business_name="Dune")
    _plant(partner_stack, tenant.id, version=LEGACY)
    marker = uuid.uuid4().hex
    task = ask(tenant, f"hello {marker}")
    assert task["status"] == "done" and task["prompt_version"] == 1, task
    system: str = llm_request_for(partner_llm, marker)["messages"][0]["content"]
    assert system.startswith("Help Dune: {business_name.__class__.__mro__} {business_name:>9} {ok}"), system[:200]
    assert "<class" not in system
