"""Tenants: the businesses one Parley serves, each with its own keys, knowledge and settings."""

from __future__ import annotations

import secrets
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.models import Tenant, utcnow


def new_callback_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


async def create_tenant(
    session: AsyncSession, *, tenant_id: str, name: str, settings: dict[str, Any] | None = None
) -> Tenant | None:
    """The new tenant, or None when the id is taken."""
    if await session.get(Tenant, tenant_id) is not None:
        return None
    tenant = Tenant(id=tenant_id, name=name, settings=settings or {}, callback_secret=new_callback_secret())
    session.add(tenant)
    await session.commit()
    await session.refresh(tenant)
    return tenant


async def list_tenants(session: AsyncSession) -> list[Tenant]:
    return list((await session.exec(select(Tenant).order_by(col(Tenant.created_at)))).all())


async def update_tenant(
    session: AsyncSession, *, tenant: Tenant, name: str | None = None, disabled: bool | None = None
) -> Tenant:
    if name is not None:
        tenant.name = name
    if disabled is not None:
        tenant.disabled_at = (tenant.disabled_at or utcnow()) if disabled else None
    session.add(tenant)
    await session.commit()
    await session.refresh(tenant)
    return tenant


async def rotate_callback_secret(session: AsyncSession, *, tenant: Tenant) -> Tenant:
    tenant.callback_secret = new_callback_secret()
    session.add(tenant)
    await session.commit()
    await session.refresh(tenant)
    return tenant


async def get_tenant(session: AsyncSession, *, tenant_id: str) -> Tenant | None:
    return await session.get(Tenant, tenant_id)
