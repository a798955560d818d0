"""A tenant's settings (answer, channel and quota settings), validated by `TenantSettings`."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.models import Tenant
from parley_contract.schemas import TenantSettings


def read_settings(tenant: Tenant) -> TenantSettings:
    return TenantSettings.model_validate(tenant.settings)


async def write_settings(session: AsyncSession, *, tenant: Tenant, values: dict[str, Any]) -> TenantSettings:
    """Store `values` (already validated) as the tenant's settings; unset fields keep their defaults."""
    settings = TenantSettings.model_validate(values)
    tenant.settings = settings.model_dump(mode="json", exclude_unset=True)
    session.add(tenant)
    await session.commit()
    await session.refresh(tenant)
    return settings
