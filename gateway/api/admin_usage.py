"""Today's usage of a tenant against its daily quotas."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.deps import AdminTenant, RedisDep
from gateway.schemas import AUTHENTICATED_ERRORS, TenantUsage, error_responses
from gateway.services.quotas import get_usage
from parley_contract.schemas import TenantSettings

router = APIRouter(prefix="/api/v1/admin", tags=["admin: tenants and keys"], responses=AUTHENTICATED_ERRORS)


@router.get("/tenants/{tenant_id}/usage", response_model=TenantUsage, responses=error_responses(404))
async def read_usage(tenant: AdminTenant, redis: RedisDep) -> TenantUsage:
    """Messages accepted and tokens generated today (UTC), the quotas, and when they reset."""
    usage = await get_usage(redis, tenant_id=tenant.id)
    settings = TenantSettings.model_validate(tenant.settings)
    return TenantUsage(
        tenant_id=tenant.id,
        day=usage.day,
        messages=usage.messages,
        tokens=usage.tokens,
        daily_message_quota=settings.daily_message_quota,
        daily_token_quota=settings.daily_token_quota,
        resets_at=usage.resets_at,
    )
