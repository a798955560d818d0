"""Prompt versions: a tenant's system prompts, numbered 1, 2, … and activated one at a time."""

from __future__ import annotations

import difflib
import logging

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.models import PromptVersion, Tenant, utcnow
from parley_contract.templates import TemplateError, placeholders_in, plain

log = logging.getLogger(__name__)


class InvalidTemplate(ValueError):
    pass


class NothingToRollBack(Exception):
    pass


def check_template(text: str) -> None:
    """Raise InvalidTemplate for anything but the worker's bare placeholders and doubled braces.

    Checked by pattern, never by filling the template in: `str.format` would evaluate a format spec
    such as `{business_name:>200000000}` (a 200 MB string) while validating it.
    """
    try:
        placeholders_in(text)
    except TemplateError as exc:
        raise InvalidTemplate(str(exc)) from exc


async def make_stored_system_prompts_plain(session: AsyncSession) -> int:
    """Rewrite each tenant's system_prompt stored before templates were checked so that it passes the
    check, rendering as before (what is not a placeholder stays literal). Returns how many changed.

    The settings are validated on every message: without this, such a tenant would get a 500 on each.
    """
    changed = 0
    for tenant in (await session.exec(select(Tenant))).all():
        stored = (tenant.settings or {}).get("system_prompt")
        if not isinstance(stored, str) or plain(stored) == stored:
            continue
        tenant.settings = {**tenant.settings, "system_prompt": plain(stored)}
        session.add(tenant)
        changed += 1
        log.warning(
            "tenant %s: its system_prompt had brace expressions that are not placeholders; now literal", tenant.id
        )
    await session.commit()
    return changed


async def list_versions(session: AsyncSession, *, tenant_id: str) -> list[PromptVersion]:
    rows = await session.exec(
        select(PromptVersion).where(PromptVersion.tenant_id == tenant_id).order_by(col(PromptVersion.version))
    )
    return list(rows.all())


async def get_version(session: AsyncSession, *, tenant_id: str, version: int) -> PromptVersion | None:
    rows = await session.exec(
        select(PromptVersion).where(PromptVersion.tenant_id == tenant_id, PromptVersion.version == version)
    )
    return rows.first()


async def active_version(session: AsyncSession, *, tenant: Tenant) -> PromptVersion | None:
    if tenant.active_prompt_id is None:
        return None
    return await session.get(PromptVersion, tenant.active_prompt_id)


async def _activate(session: AsyncSession, *, tenant: Tenant, prompt: PromptVersion) -> None:
    prompt.activated_at = utcnow()
    tenant.active_prompt_id = prompt.id
    session.add(prompt)
    session.add(tenant)


async def create_version(
    session: AsyncSession, *, tenant: Tenant, text: str, note: str | None, activate: bool
) -> PromptVersion:
    """A new version numbered after the tenant's last one (raises InvalidTemplate)."""
    check_template(text)
    last = (
        await session.exec(select(func.max(PromptVersion.version)).where(PromptVersion.tenant_id == tenant.id))
    ).one()
    prompt = PromptVersion(tenant_id=tenant.id, version=(last or 0) + 1, text=text, note=note)
    session.add(prompt)
    if activate:
        await _activate(session, tenant=tenant, prompt=prompt)
    await session.commit()
    await session.refresh(prompt)
    await session.refresh(tenant)
    return prompt


async def activate_version(session: AsyncSession, *, tenant: Tenant, prompt: PromptVersion) -> PromptVersion:
    await _activate(session, tenant=tenant, prompt=prompt)
    await session.commit()
    await session.refresh(prompt)
    await session.refresh(tenant)
    return prompt


async def roll_back(session: AsyncSession, *, tenant: Tenant) -> PromptVersion:
    """Make active the version activated last before the current one; activation times are kept,
    so repeated roll backs walk further back. Raises NothingToRollBack."""
    current = await active_version(session, tenant=tenant)
    if current is None or current.activated_at is None:
        raise NothingToRollBack("no prompt version is active")
    previous = (
        await session.exec(
            select(PromptVersion)
            .where(
                PromptVersion.tenant_id == tenant.id,
                col(PromptVersion.id) != current.id,
                col(PromptVersion.activated_at).is_not(None),
                col(PromptVersion.activated_at) < current.activated_at,
            )
            .order_by(col(PromptVersion.activated_at).desc())
        )
    ).first()
    if previous is None:
        raise NothingToRollBack(f"version {current.version} is the first one activated: nothing to roll back to")
    tenant.active_prompt_id = previous.id
    session.add(tenant)
    await session.commit()
    await session.refresh(tenant)
    return previous


def diff_lines(old: PromptVersion, new: PromptVersion) -> list[str]:
    return list(
        difflib.unified_diff(
            old.text.splitlines(),
            new.text.splitlines(),
            fromfile=f"version {old.version}",
            tofile=f"version {new.version}",
            lineterm="",
        )
    )
