"""Shapes of the partner and admin API that only the gateway speaks (the cross-service ones are
in `parley_contract.schemas`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    Field,
    StringConstraints,
    WithJsonSchema,
    create_model,
)
from pydantic.fields import FieldInfo

from gateway.auth import PARTNER_SCOPES, Scope
from gateway.models import as_utc
from parley_contract.schemas import StrictModel, TaskOut, TenantSettings

TenantId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def _valid_settings(value: dict[str, Any]) -> dict[str, Any]:
    # Stored as sent and read back as TenantSettings on every message: what it refuses (such as a
    # system_prompt that is not a plain template) is a 422 here, not a surprise later.
    TenantSettings.model_validate(value)
    return value


class TenantIn(StrictModel):
    id: TenantId
    name: Name
    settings: Annotated[dict[str, Any], AfterValidator(_valid_settings)] = Field(default_factory=dict)


class TenantPatch(StrictModel):
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


def _partner_scope(scope: Scope) -> Scope:
    if scope not in PARTNER_SCOPES:
        raise ValueError(f"the {scope.value!r} scope belongs to the deployment and cannot be granted")
    return scope


#: A scope the admin API may grant (never `internal` or `operator`: those come only from the environment).
PartnerScope = Annotated[
    Scope,
    AfterValidator(_partner_scope),
    WithJsonSchema({"type": "string", "enum": sorted(s.value for s in PARTNER_SCOPES)}),
]


class ApiKeyIn(StrictModel):
    name: Name
    scopes: list[PartnerScope] = Field(min_length=1)
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


class ErrorOut(BaseModel):
    """Every error: a sentence, or FastAPI's list of field errors for 422."""

    detail: str | list[dict[str, Any]]


_ERROR_DESCRIPTIONS = {
    400: "The body could not be read (not UTF-8, not JSON)",
    401: "Missing, unknown or revoked API key",
    403: "The key lacks the scope, or the tenant is not the key's",
    404: "No such resource in this tenant",
    409: "Conflict (e.g. an Idempotency-Key reused with another body)",
    413: "Body larger than the limit",
    415: "Unsupported file type",
    429: "Rate limit or daily quota spent; see Retry-After",
    502: "A worker failed the request",
    503: "Database or queue unavailable; retry after Retry-After",
    504: "No worker answered in time",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for these error statuses."""
    return {code: {"model": ErrorOut, "description": _ERROR_DESCRIPTIONS[code]} for code in codes}


#: What any authenticated route may answer besides its own outcomes (413 and 429, with their
#: headers, are added to every partner router where the app includes it: `gateway.app.LIMIT_RESPONSES`).
AUTHENTICATED_ERRORS = error_responses(400, 401, 403, 503)
#: Routes under /api/v1/admin/tenants/{tenant_id}: an unknown tenant is a 404 too.
TENANT_ERRORS = error_responses(400, 401, 403, 404, 503)


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


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class CallbackDeliveryOut(BaseModel):
    id: str
    task_id: str
    url: str
    #: task.completed | task.failed
    event: str
    status: DeliveryStatus
    attempts: int
    #: When the next attempt is due (pending deliveries only mean anything by it).
    next_attempt_at: datetime
    last_error: str | None
    last_status_code: int | None
    created_at: datetime
    delivered_at: datetime | None


class CallbackDeliveryDetail(CallbackDeliveryOut):
    #: The event body exactly as it is POSTed (its `id` is the delivery id).
    payload: dict[str, Any]


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
#: Versions, offsets and counts beyond this overflow the databases' integers.
MAX_INT = 2**31 - 1


class PromptIn(StrictModel):
    #: May use {business_name} and {language_hint}; write a literal brace as {{ or }}.
    text: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
    note: Annotated[str, StringConstraints(max_length=500)] | None = None
    activate: bool = False


class PromptOut(BaseModel):
    id: str
    version: int
    text: str
    note: str | None
    active: bool
    created_at: UtcDatetime
    activated_at: UtcDatetime | None


class PromptDiff(BaseModel):
    from_version: int
    to_version: int
    #: The unified diff as one text, and the same lines one by one.
    unified: str
    lines: list[str]


class FailedTaskOut(BaseModel):
    task_id: str
    conversation_id: str
    error: str | None
    attempts: int
    created_at: UtcDatetime
    finished_at: UtcDatetime | None


class FailedTaskPage(BaseModel):
    items: list[FailedTaskOut]
    total: int


class TaskPage(BaseModel):
    items: list[TaskOut]
    total: int


class ConversationHitOut(BaseModel):
    conversation_id: str
    channel: str
    chat_id: str
    is_open: bool
    message_count: int
    user_message_count: int
    first_message_at: UtcDatetime
    last_message_at: UtcDatetime


class ConversationPage(BaseModel):
    items: list[ConversationHitOut]
    total: int


class TenantSettingsIn(TenantSettings):
    """The whole settings object (PUT): unknown fields are a 422."""

    model_config = StrictModel.model_config


def _optional(field: FieldInfo) -> tuple[Any, None]:
    constrained = Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
    return constrained | None, None  # type: ignore[operator]


#: Some settings (PATCH): the fields sent replace the stored ones; unknown fields are a 422.
TenantSettingsPatch: type[BaseModel] = create_model(
    "TenantSettingsPatch",
    __config__=StrictModel.model_config,
    **{name: _optional(field) for name, field in TenantSettings.model_fields.items()},  # type: ignore[call-overload]
)


#: Documented on every partner route: the body cap and the rate limits and quotas.
LIMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": BodyTooLarge, "description": "The request body is larger than MAX_BODY_BYTES"},
    429: {
        "model": LimitExceeded,
        "description": "Over a rate limit (see Retry-After and X-RateLimit-*) or a daily quota",
        "headers": {
            "Retry-After": {"description": "Seconds until a retry can pass", "schema": {"type": "integer"}},
            "X-RateLimit-Limit": {"description": "Requests per minute (rate limits)", "schema": {"type": "integer"}},
            "X-RateLimit-Remaining": {"description": "Requests left in the window", "schema": {"type": "integer"}},
            "X-RateLimit-Reset": {"description": "Unix time when the window has room", "schema": {"type": "integer"}},
        },
    },
}
