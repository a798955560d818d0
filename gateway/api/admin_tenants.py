"""Admin API: tenants and their API keys."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status

from gateway.deps import AdminTenant, Operator, SessionDep, SettingsDep, refuse_unsafe_callback_url
from gateway.middleware.idempotency import never_replayed
from gateway.models import ApiKey, Tenant
from gateway.schemas import (
    AUTHENTICATED_ERRORS,
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    CallbackSecret,
    TenantCreated,
    TenantIn,
    TenantOut,
    TenantPatch,
    error_responses,
)
from gateway.services import api_keys, tenants

router = APIRouter(prefix="/api/v1/admin", tags=["admin: tenants and keys"], responses=AUTHENTICATED_ERRORS)


def tenant_out(tenant: Tenant) -> TenantOut:
    return TenantOut(
        id=tenant.id,
        name=tenant.name,
        settings=tenant.settings,
        active_prompt_id=tenant.active_prompt_id,
        disabled=tenant.disabled_at is not None,
        created_at=tenant.created_at,
    )


def key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut.model_validate(key, from_attributes=True)


# The routes that answer a secret are never replayed to an Idempotency-Key's retry (`never_replayed`).
@router.post(
    "/tenants",
    status_code=status.HTTP_201_CREATED,
    response_model=TenantCreated,
    responses=error_responses(409),
    dependencies=[Depends(never_replayed)],
)
async def create_tenant(body: TenantIn, _: Operator, session: SessionDep) -> TenantCreated:
    """A new tenant (a business); the response carries its callback signing secret."""
    tenant = await tenants.create_tenant(session, tenant_id=body.id, name=body.name, settings=body.settings)
    if tenant is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"tenant {body.id!r} exists")
    return TenantCreated(**tenant_out(tenant).model_dump(), callback_secret=tenant.callback_secret or "")


@router.get("/tenants", response_model=list[TenantOut])
async def list_tenants(_: Operator, session: SessionDep) -> list[TenantOut]:
    return [tenant_out(t) for t in await tenants.list_tenants(session)]


@router.get("/tenants/{tenant_id}", response_model=TenantOut, responses=error_responses(404))
async def read_tenant(tenant: AdminTenant) -> TenantOut:
    return tenant_out(tenant)


@router.patch("/tenants/{tenant_id}", response_model=TenantOut, responses=error_responses(404))
async def patch_tenant(body: TenantPatch, tenant: AdminTenant, session: SessionDep) -> TenantOut:
    return tenant_out(await tenants.update_tenant(session, tenant=tenant, name=body.name, disabled=body.disabled))


@router.post(
    "/tenants/{tenant_id}/callback-secret",
    response_model=CallbackSecret,
    responses=error_responses(404, 409),
    dependencies=[Depends(never_replayed)],
)
async def rotate_callback_secret(tenant: AdminTenant, session: SessionDep) -> CallbackSecret:
    """A new secret for signing this tenant's callbacks; the old one stops at once."""
    tenant = await tenants.rotate_callback_secret(session, tenant=tenant)
    return CallbackSecret(callback_secret=tenant.callback_secret or "")


@router.post(
    "/tenants/{tenant_id}/keys",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    responses=error_responses(404, 409),
    dependencies=[Depends(never_replayed)],
)
async def create_key(body: ApiKeyIn, tenant: AdminTenant, session: SessionDep, settings: SettingsDep) -> ApiKeyCreated:
    """A new API key. The key is in this response only: store it now."""
    await refuse_unsafe_callback_url(body.callback_url, settings=settings)
    created = await api_keys.create_key(
        session,
        tenant_id=tenant.id,
        name=body.name,
        scopes=body.scopes,
        rate_limit_per_minute=body.rate_limit_per_minute,
        callback_url=str(body.callback_url) if body.callback_url else None,
    )
    return ApiKeyCreated(**key_out(created.key).model_dump(), key=created.token)


@router.get("/tenants/{tenant_id}/keys", response_model=list[ApiKeyOut], responses=error_responses(404))
async def list_keys(tenant: AdminTenant, session: SessionDep, include_revoked: bool = False) -> list[ApiKeyOut]:
    return [key_out(k) for k in await api_keys.list_keys(session, tenant_id=tenant.id, include_revoked=include_revoked)]


@router.delete("/tenants/{tenant_id}/keys/{key_id}", response_model=ApiKeyOut, responses=error_responses(404))
async def revoke_key(key_id: str, tenant: AdminTenant, session: SessionDep) -> ApiKeyOut:
    """Revoke a key: from now on it is answered 401."""
    key = await api_keys.get_key(session, tenant_id=tenant.id, key_id=key_id)
    if key is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no key {key_id!r}")
    return key_out(await api_keys.revoke_key(session, key=key))
