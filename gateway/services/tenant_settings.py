"""A tenant's settings (answer, channel and quota settings), validated by `TenantSettings`.

The fields that cost the deployment money or capacity (quotas, the model and how much of it an
answer uses, the cap on tasks in flight) are the deployment operator's: a tenant's own admin may
change the others only.
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.models import Tenant
from parley_contract.schemas import TenantSettings

OPERATOR_FIELDS = frozenset(
    {
        "daily_message_quota",
        "daily_token_quota",
        "provider",
        "model",
        "top_k",
        "max_answer_tokens",
        "history_turns",
        "max_tasks_in_flight",
    }
)


class OperatorOnlySettings(Exception):
    """A tenant's admin tried to change settings only the deployment's operator may change."""

    def __init__(self, fields: list[str]) -> None:
        self.fields = fields
        super().__init__(
            f"only the operator of this deployment may change {', '.join(fields)}; "
            "leave them out of a PATCH, or send their current values in a PUT"
        )


def read_settings(tenant: Tenant) -> TenantSettings:
    return TenantSettings.model_validate(tenant.settings)


def operator_fields_changed(*, current: TenantSettings, wanted: TenantSettings) -> list[str]:
    return sorted(name for name in OPERATOR_FIELDS if getattr(current, name) != getattr(wanted, name))


async def write_settings(
    session: AsyncSession, *, tenant: Tenant, values: dict[str, Any], by_operator: bool
) -> TenantSettings:
    """Store `values` as the tenant's settings; unset fields keep their defaults. Raises pydantic's
    ValidationError for invalid values, then OperatorOnlySettings when a caller who is not the
    operator would change an operator field."""
    settings = TenantSettings.model_validate(values)
    if not by_operator and (changed := operator_fields_changed(current=read_settings(tenant), wanted=settings)):
        raise OperatorOnlySettings(changed)
    tenant.settings = settings.model_dump(mode="json", exclude_unset=True)
    session.add(tenant)
    await session.commit()
    await session.refresh(tenant)
    return settings
