"""Admin API: a tenant's prompt versions and settings."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, HTTPException, Path, Query, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.auth import Principal
from gateway.deps import AdminCaller, AdminTenant, SessionDep
from gateway.models import PromptVersion, Tenant
from gateway.schemas import (
    MAX_INT,
    TENANT_ERRORS,
    PromptDiff,
    PromptIn,
    PromptOut,
    TenantSettingsIn,
    TenantSettingsPatch,
    error_responses,
)
from gateway.services import prompts, tenant_settings
from parley_contract.schemas import TenantSettings

router = APIRouter(
    prefix="/api/v1/admin/tenants/{tenant_id}", tags=["admin: prompts and settings"], responses=TENANT_ERRORS
)


def prompt_out(prompt: PromptVersion, tenant: Tenant) -> PromptOut:
    return PromptOut(
        id=prompt.id,
        version=prompt.version,
        text=prompt.text,
        note=prompt.note,
        active=prompt.id == tenant.active_prompt_id,
        created_at=prompt.created_at,
        activated_at=prompt.activated_at,
    )


async def _version(session: SessionDep, tenant: Tenant, version: int) -> PromptVersion:
    prompt = await prompts.get_version(session, tenant_id=tenant.id, version=version)
    if prompt is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no prompt version {version}")
    return prompt


@router.post("/prompts", status_code=status.HTTP_201_CREATED, response_model=PromptOut)
async def create_prompt(body: PromptIn, tenant: AdminTenant, session: SessionDep) -> PromptOut:
    """A new prompt version (numbered after the last); `activate: true` makes the worker use it at once."""
    try:
        prompt = await prompts.create_version(
            session, tenant=tenant, text=body.text, note=body.note, activate=body.activate
        )
    except prompts.InvalidTemplate as exc:
        error = {"type": "value_error", "loc": ("body", "text"), "msg": str(exc), "input": body.text}
        raise RequestValidationError([error]) from exc
    return prompt_out(prompt, tenant)


@router.get("/prompts", response_model=list[PromptOut])
async def list_prompts(tenant: AdminTenant, session: SessionDep) -> list[PromptOut]:
    return [prompt_out(p, tenant) for p in await prompts.list_versions(session, tenant_id=tenant.id)]


@router.get(
    "/prompts/diff",
    response_model=PromptDiff,
    responses={200: {"content": {"text/x-diff": {"schema": {"type": "string"}}}}},
)
async def diff_prompts(
    tenant: AdminTenant,
    session: SessionDep,
    from_version: Annotated[int, Query(alias="from", ge=1, le=MAX_INT)],
    to_version: Annotated[int, Query(alias="to", ge=1, le=MAX_INT)],
    format: Literal["json", "text"] = "json",
) -> Any:
    """The unified diff between two versions (`format=text`: as a plain diff file)."""
    lines = prompts.diff_lines(
        await _version(session, tenant, from_version), await _version(session, tenant, to_version)
    )
    unified = "\n".join(lines) + ("\n" if lines else "")
    if format == "text":
        return PlainTextResponse(unified, media_type="text/x-diff")
    return PromptDiff(from_version=from_version, to_version=to_version, unified=unified, lines=lines)


@router.get("/prompts/{version}", response_model=PromptOut)
async def read_prompt(
    version: Annotated[int, Path(ge=1, le=MAX_INT)], tenant: AdminTenant, session: SessionDep
) -> PromptOut:
    return prompt_out(await _version(session, tenant, version), tenant)


@router.post("/prompts/{version}/activate", response_model=PromptOut)
async def activate_prompt(
    version: Annotated[int, Path(ge=1, le=MAX_INT)], tenant: AdminTenant, session: SessionDep
) -> PromptOut:
    """Answer with this version from the next task on."""
    prompt = await prompts.activate_version(session, tenant=tenant, prompt=await _version(session, tenant, version))
    return prompt_out(prompt, tenant)


@router.post("/prompts/rollback", response_model=PromptOut, responses=error_responses(409))
async def roll_back_prompt(tenant: AdminTenant, session: SessionDep) -> PromptOut:
    """Go back to the version activated before the current one (409 when there is none)."""
    try:
        prompt = await prompts.roll_back(session, tenant=tenant)
    except prompts.NothingToRollBack as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return prompt_out(prompt, tenant)


@router.get("/settings", response_model=TenantSettings)
async def read_settings(tenant: AdminTenant) -> TenantSettings:
    """The tenant's settings, defaults filled in."""
    return tenant_settings.read_settings(tenant)


@router.put("/settings", response_model=TenantSettings)
async def replace_settings(
    body: TenantSettingsIn, tenant: AdminTenant, principal: AdminCaller, session: SessionDep
) -> TenantSettings:
    """Replace all settings: fields left out go back to their defaults. Quotas, provider, model, top_k,
    max_answer_tokens, history_turns and max_tasks_in_flight are the deployment operator's: another
    admin key changing them is a 403."""
    values = body.model_dump(mode="json", exclude_unset=True)
    return await _write(session, tenant=tenant, principal=principal, values=values)


@router.patch("/settings", response_model=TenantSettings)
async def patch_settings(
    body: Annotated[TenantSettingsPatch, Body()],
    tenant: AdminTenant,
    principal: AdminCaller,
    session: SessionDep,
) -> TenantSettings:
    """Change the fields sent; the others keep their stored values. As with PUT, only the deployment's
    operator may change the quota, model and limit fields."""
    current = tenant_settings.read_settings(tenant).model_dump(mode="json", exclude_unset=True)
    changes = body.model_dump(mode="json", exclude_unset=True)
    return await _write(session, tenant=tenant, principal=principal, values={**current, **changes})


async def _write(
    session: AsyncSession, *, tenant: Tenant, principal: Principal, values: dict[str, Any]
) -> TenantSettings:
    try:
        return await tenant_settings.write_settings(
            session, tenant=tenant, values=values, by_operator=principal.is_operator
        )
    except ValidationError as exc:
        # e.g. `null` for a field that needs a value: the same 422 shape as any invalid body.
        raise RequestValidationError(exc.errors(include_url=False)) from exc
    except tenant_settings.OperatorOnlySettings as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
