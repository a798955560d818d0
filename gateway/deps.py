from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

from asgi_correlation_id import correlation_id
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.auth import Authenticator, Principal, Scope
from gateway.events import TaskEvents
from gateway.jobs import JobQueue
from gateway.metrics import GatewayMetrics
from gateway.middleware.rate_limit_headers import note_rate_limit
from gateway.models import Tenant
from gateway.services.callback_dispatcher import CallbackDispatcher
from gateway.services.quotas import Admission, admit_chat_message
from gateway.services.rate_limits import RateLimiter, limit_key
from gateway.services.safe_http import callback_url_problem
from gateway.settings import GatewaySettings
from parley_contract.schemas import TenantSettings


@dataclass
class AppState:
    settings: GatewaySettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    jobs: JobQueue
    events: TaskEvents
    authenticator: Authenticator
    limiter: RateLimiter
    #: Sends callback deliveries; None until the lifespan starts it.
    callbacks: CallbackDispatcher | None = None
    metrics: GatewayMetrics = field(default_factory=GatewayMetrics)


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.parley
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def get_settings(state: StateDep) -> GatewaySettings:
    return state.settings


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    async with state.sessions() as session:
        yield session


def get_jobs(state: StateDep) -> JobQueue:
    return state.jobs


def get_events(state: StateDep) -> TaskEvents:
    return state.events


def get_redis(state: StateDep) -> Redis:
    return state.redis


def get_metrics(state: StateDep) -> GatewayMetrics:
    return state.metrics


def get_request_id() -> str | None:
    """The request's id (the caller's X-Request-ID, or one made for it), stored on its task."""
    return correlation_id.get()


SettingsDep = Annotated[GatewaySettings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
JobsDep = Annotated[JobQueue, Depends(get_jobs)]
EventsDep = Annotated[TaskEvents, Depends(get_events)]
RedisDep = Annotated[Redis, Depends(get_redis)]
MetricsDep = Annotated[GatewayMetrics, Depends(get_metrics)]
RequestIdDep = Annotated[str | None, Depends(get_request_id)]

_bearer = HTTPBearer(auto_error=False, description="A Parley service, admin or partner token")


async def get_principal(
    request: Request,
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller; every request of a partner, service or admin key counts against the key's rate limit
    (the deployment's worker token's do not)."""
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing bearer token: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = await authenticate(request, state, token=credentials.credentials)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "invalid bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    return principal


async def authenticate(request: Request, state: AppState, *, token: str) -> Principal | None:
    """The key's principal (None: unknown, revoked or of a disabled tenant), counted against the
    key's rate limit (RateLimited when spent)."""
    principal = await state.authenticator.authenticate(token)
    if principal is not None and principal.key_id is not None and not principal.is_worker:
        per_minute = principal.rate_limit_per_minute or state.settings.rate_limit_per_minute
        note_rate_limit(request, await limit_key(state.limiter, key_id=principal.key_id, per_minute=per_minute))
    return principal


def require(scope: Scope) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets the request through only with `scope`."""

    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not principal.allows(scope):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this token lacks the '{scope}' scope")
        return principal

    return check


MessagesWriter = Annotated[Principal, Depends(require(Scope.messages_write))]
TasksReader = Annotated[Principal, Depends(require(Scope.tasks_read))]
ConversationsReader = Annotated[Principal, Depends(require(Scope.conversations_read))]
KnowledgeReader = Annotated[Principal, Depends(require(Scope.knowledge_read))]
KnowledgeWriter = Annotated[Principal, Depends(require(Scope.knowledge_write))]
AdminCaller = Annotated[Principal, Depends(require(Scope.admin))]


async def require_worker(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    """Only the worker token the deployment provisioned (WORKER_TOKEN): the internal API reads and
    writes every tenant's tasks and documents, so no key made through an API may call it."""
    if not principal.is_worker:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the internal API accepts only the deployment's worker token")
    return principal


InternalCaller = Annotated[Principal, Depends(require_worker)]


async def get_admin_tenant(tenant_id: str, principal: AdminCaller, session: SessionDep) -> Tenant:
    """The tenant in the path, if this admin may manage it: its own, or any for the deployment's
    operator (ADMIN_TOKEN)."""
    if not principal.is_operator and tenant_id != principal.tenant_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "an admin key manages its own tenant only")
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no tenant {tenant_id!r}")
    return tenant


def require_operator(principal: AdminCaller) -> Principal:
    if not principal.is_operator:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only the deployment's operator (ADMIN_TOKEN) may do this")
    return principal


AdminTenant = Annotated[Tenant, Depends(get_admin_tenant)]
Operator = Annotated[Principal, Depends(require_operator)]


@dataclass
class ChatGate:
    """Lets an end-user message in (per-chat rate limit, daily quotas) or raises RateLimited /
    QuotaExceeded; every route that turns an end-user message into a task uses it, and passes the
    admission's `max_tasks_in_flight` on to `accept_message`."""

    request: Request
    state: AppState
    session: AsyncSession

    async def admit(self, *, tenant_id: str, channel: str, chat_id: str) -> Admission:
        tenant = await self.session.get(Tenant, tenant_id)
        tenant_settings = TenantSettings.model_validate(tenant.settings if tenant is not None else {})
        admission = await admit_chat_message(
            redis=self.state.redis,
            limiter=self.state.limiter,
            tenant_settings=tenant_settings,
            chat_rate_limit_per_minute=self.state.settings.chat_rate_limit_per_minute,
            default_max_tasks_in_flight=self.state.settings.tenant_max_tasks_in_flight,
            tenant_id=tenant_id,
            channel=channel,
            chat_id=chat_id,
        )
        note_rate_limit(self.request, admission.rate_limit)
        return admission


def get_chat_gate(request: Request, state: StateDep, session: SessionDep) -> ChatGate:
    return ChatGate(request=request, state=state, session=session)


ChatGateDep = Annotated[ChatGate, Depends(get_chat_gate)]


async def refuse_unsafe_callback_url(url: object | None, *, settings: GatewaySettings) -> None:
    """422 on `body.callback_url` when a submitted callback URL may not be called (issue #15, finding 10)."""
    if url is None:
        return
    problem = await callback_url_problem(str(url), allow_private=settings.callback_allow_private_urls)
    if problem is not None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"loc": ["body", "callback_url"], "msg": problem, "type": "callback_url_refused"}],
        )
