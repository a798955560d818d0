"""API keys: made once and shown once, stored as SHA-256, looked up by that hash, revocable.

A key is `pk_` and 43 random URL-safe characters; its hash is unique, so looking a presented
token up by its hash is both the check and the search (nothing secret is compared byte by byte).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.auth import PARTNER_SCOPES, Principal, Scope
from gateway.models import ApiKey, Tenant, utcnow
from gateway.settings import GatewaySettings

KEY_PREFIX = "pk_"
SERVICE_SCOPES = frozenset({Scope.messages_write, Scope.tasks_read, Scope.conversations_read, Scope.knowledge_read})


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def principal_of(key: ApiKey) -> Principal:
    return Principal(
        name=key.name,
        tenant_id=key.tenant_id,
        scopes=frozenset(Scope(s) for s in key.scopes),
        key_id=key.id,
        rate_limit_per_minute=key.rate_limit_per_minute,
        callback_url=key.callback_url,
        managed=key.managed,
    )


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    #: The key itself: shown to the caller once, never stored.
    token: str


async def create_key(
    session: AsyncSession,
    *,
    tenant_id: str,
    name: str,
    scopes: Iterable[Scope],
    rate_limit_per_minute: int | None = None,
    callback_url: str | None = None,
) -> CreatedKey:
    """A partner key; the deployment's own scopes (internal, operator) come only from the environment."""
    wanted = {Scope(s) for s in scopes}
    if forbidden := sorted(wanted - PARTNER_SCOPES):
        raise ValueError(f"scopes {', '.join(forbidden)} are the deployment's own and cannot be granted")
    token = new_key()
    key = ApiKey(
        tenant_id=tenant_id,
        name=name,
        prefix=token[:10],
        key_hash=hash_key(token),
        scopes=sorted(s.value for s in wanted),
        rate_limit_per_minute=rate_limit_per_minute,
        callback_url=callback_url,
    )
    session.add(key)
    await session.commit()
    await session.refresh(key)
    return CreatedKey(key=key, token=token)


async def list_keys(session: AsyncSession, *, tenant_id: str, include_revoked: bool = False) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.tenant_id == tenant_id)
    if not include_revoked:
        query = query.where(col(ApiKey.revoked_at).is_(None))
    rows = await session.exec(query.order_by(col(ApiKey.created_at)))
    return list(rows.all())


async def get_key(session: AsyncSession, *, tenant_id: str, key_id: str) -> ApiKey | None:
    key = await session.get(ApiKey, key_id)
    return key if key is not None and key.tenant_id == tenant_id else None


async def revoke_key(session: AsyncSession, *, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        await session.commit()
        await session.refresh(key)
    return key


async def ensure_managed_key(
    session: AsyncSession, *, tenant_id: str, name: str, token: str, scopes: Iterable[Scope]
) -> None:
    """Make the environment's token a key of the tenant; a changed token revokes the old one."""
    if not token:
        return
    digest = hash_key(token)
    wanted = sorted({Scope(s).value for s in scopes})
    rows = await session.exec(
        select(ApiKey).where(ApiKey.tenant_id == tenant_id, ApiKey.name == name, col(ApiKey.managed).is_(True))
    )
    found = False
    for key in rows.all():
        if key.key_hash == digest:
            found = True
            if key.scopes != wanted:
                key.scopes = wanted
                session.add(key)
        elif key.revoked_at is None:
            key.revoked_at = utcnow()
            session.add(key)
    if not found:
        existing = (await session.exec(select(ApiKey).where(ApiKey.key_hash == digest))).first()
        if existing is not None:
            raise ValueError(f"the {name} token is already the key {existing.id!r}; give each token its own value")
        session.add(
            ApiKey(tenant_id=tenant_id, name=name, prefix=token[:6], key_hash=digest, scopes=wanted, managed=True)
        )
    await session.commit()


async def ensure_managed_keys(session: AsyncSession, settings: GatewaySettings) -> None:
    """SERVICE_TOKEN, ADMIN_TOKEN (the deployment's operator) and WORKER_TOKEN as keys of the default tenant."""
    tenant_id = settings.default_tenant_id
    await ensure_managed_key(
        session, tenant_id=tenant_id, name="service", token=settings.service_token, scopes=SERVICE_SCOPES
    )
    await ensure_managed_key(
        session, tenant_id=tenant_id, name="admin", token=settings.admin_token, scopes={Scope.admin, Scope.operator}
    )
    await ensure_managed_key(
        session, tenant_id=tenant_id, name="worker", token=settings.worker_token, scopes={Scope.internal}
    )


class ApiKeyAuthenticator:
    """Looks the presented token's hash up; revoked keys and disabled tenants are refused."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def authenticate(self, token: str) -> Principal | None:
        async with self._sessions() as session:
            row = (
                await session.exec(
                    select(ApiKey, Tenant)
                    .join(Tenant, col(Tenant.id) == col(ApiKey.tenant_id))
                    .where(ApiKey.key_hash == hash_key(token), col(ApiKey.revoked_at).is_(None))
                )
            ).first()
        if row is None:
            return None
        key, tenant = row
        if tenant.disabled_at is not None:
            return None
        return principal_of(key)
