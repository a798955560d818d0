"""Shapes of the partner and admin API that only the gateway speaks (the cross-service ones are
in `parley_contract.schemas`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints

from gateway.auth import Scope

TenantId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TenantIn(_Strict):
    id: TenantId
    name: Name
    settings: dict[str, Any] = Field(default_factory=dict)


class TenantPatch(_Strict):
    name: Name | None = None
    #: True disables the tenant: its keys are refused until it is enabled again.
    disabled: bool | None = None


class TenantOut(BaseModel):
    id: str
    name: str
    settings: dict[str, Any]
    active_prompt_id: str | None
    disabled: bool
    created_at: datetime


class TenantCreated(TenantOut):
    #: Signs this tenant's callbacks; shown here and when rotated.
    callback_secret: str


class CallbackSecret(BaseModel):
    callback_secret: str


class ApiKeyIn(_Strict):
    name: Name
    scopes: list[Scope] = Field(min_length=1)
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=100_000)
    callback_url: AnyHttpUrl | None = None


class ApiKeyOut(BaseModel):
    id: str
    tenant_id: str
    name: str
    prefix: str
    scopes: list[str]
    rate_limit_per_minute: int | None
    callback_url: str | None
    managed: bool
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    #: The key itself. It is shown only in this response; Parley keeps its hash.
    key: str


class TenantUsage(BaseModel):
    """Today's (UTC) counts against the tenant's daily quotas (None: unlimited)."""

    tenant_id: str
    day: str
    messages: int
    tokens: int
    daily_message_quota: int | None
    daily_token_quota: int | None
    resets_at: datetime


class LimitExceeded(BaseModel):
    """A 429: a rate limit (`detail` only) or a daily quota (`quota`, `limit` and `resets_at` too)."""

    detail: str
    quota: Literal["message", "token"] | None = None
    limit: int | None = None
    resets_at: datetime | None = None


class BodyTooLarge(BaseModel):
    detail: str
