"""The gateway's ASGI application, built from settings by `create_app`."""

from __future__ import annotations

import email.message
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.api import (
    admin_callbacks,
    admin_conversations,
    admin_curated,
    admin_prompts,
    admin_tasks,
    admin_tenants,
    admin_usage,
    conversations,
    health,
    internal,
    knowledge,
    messages,
    openai_compat,
    tasks,
)
from gateway.db import make_engine, make_sessionmaker
from gateway.deps import AppState
from gateway.events import TaskEvents
from gateway.jobs import JobQueue
from gateway.metrics import GatewayMetrics, instrument
from gateway.middleware.body_limit import BodyLimitMiddleware
from gateway.middleware.idempotency import IdempotencyMiddleware
from gateway.middleware.rate_limit_headers import RateLimitHeadersMiddleware
from gateway.middleware.security_headers import SecurityHeadersMiddleware
from gateway.schemas import LIMIT_RESPONSES
from gateway.services.api_keys import ApiKeyAuthenticator, ensure_managed_keys
from gateway.services.callback_dispatcher import CallbackDispatcher
from gateway.services.openai_compat import OpenAIError
from gateway.services.quotas import QuotaExceeded
from gateway.services.rate_limits import RateLimited, RateLimiter
from gateway.services.reconciler import Reconciler
from gateway.services.surrogates import surrogate_errors
from gateway.services.wakeups import Wakeups
from gateway.settings import GatewaySettings
from gateway.shutdown import Draining
from parley_contract.logging import REQUEST_ID_HEADER, exception_types

log = logging.getLogger(__name__)

#: Routes whose body is a document upload: capped at MAX_UPLOAD_BYTES (plus the multipart envelope), not
#: MAX_BODY_BYTES, and read by the route only after it has checked the caller.
UPLOAD_PATHS = frozenset({"/api/v1/knowledge/documents", "/internal/v1/documents"})

#: A caller's X-Request-ID is kept if it looks like an id (it is stored on the task: 64 chars at most).
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def _valid_request_id(value: str) -> bool:
    return _REQUEST_ID.fullmatch(value) is not None


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    metrics = GatewayMetrics()
    docs = settings.api_docs_enabled
    app = FastAPI(
        title="Parley gateway",
        version="0.1.0",
        description="Accepts customers' messages, stores them, queues answers and serves the partner API.",
        lifespan=_lifespan(settings, metrics),
        # API_DOCS: off by default in production, where the document only maps the API for an attacker.
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        # Before any route's own dependencies: nothing downstream ever sees an unencodable string.
        dependencies=[Depends(_refuse_unpaired_surrogates)],
    )
    # `python -m gateway` sets it on SIGTERM (gateway.shutdown); long polls then answer at once.
    app.state.draining = Draining()
    _include_routers(app)
    _add_middleware(app, settings, metrics)
    _add_exception_handlers(app)
    return app


def _lifespan(
    settings: GatewaySettings, metrics: GatewayMetrics
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as resources:
            state = await _open_state(settings, metrics, resources)
            app.state.parley = state
            await _write_managed_keys(state)
            for loop in _background_loops(state):
                loop.start()
                resources.push_async_callback(loop.stop)  # stopped in the reverse order
            yield

    return lifespan


async def _open_state(settings: GatewaySettings, metrics: GatewayMetrics, resources: AsyncExitStack) -> AppState:
    """The connections every request shares, each closed by `resources` when the gateway stops."""
    engine = make_engine(settings.async_database_url)
    resources.push_async_callback(engine.dispose)
    redis = Redis.from_url(settings.redis_url, socket_timeout=10, socket_connect_timeout=5)
    resources.push_async_callback(redis.aclose)
    # Searches block on the result stream for up to search_timeout_seconds.
    sync_redis = SyncRedis.from_url(
        settings.redis_url, socket_timeout=settings.search_timeout_seconds + 10, socket_connect_timeout=5
    )
    resources.callback(sync_redis.close)
    # The listener blocks on pub/sub indefinitely: no read timeout, a health check instead.
    events_redis = Redis.from_url(
        settings.redis_url, socket_timeout=None, socket_connect_timeout=5, health_check_interval=30
    )
    resources.push_async_callback(events_redis.aclose)
    sessions = make_sessionmaker(engine)
    return AppState(
        settings=settings,
        engine=engine,
        sessions=sessions,
        redis=redis,
        jobs=JobQueue(sync_redis),
        events=TaskEvents(events_redis),
        authenticator=ApiKeyAuthenticator(sessions),
        limiter=RateLimiter(redis, settings.redis_url),
        callbacks=CallbackDispatcher(sessions=sessions, settings=settings),
        metrics=metrics,
    )


async def _write_managed_keys(state: AppState) -> None:
    try:
        async with state.sessions() as session:
            await ensure_managed_keys(session, state.settings)
    except (DBAPIError, OSError):
        # `migrate` wrote them too; the gateway still starts and answers 503 until the database is back.
        log.warning("could not write the environment's tokens as keys (database unavailable)", exc_info=True)


def _background_loops(state: AppState) -> list[Reconciler | Wakeups | CallbackDispatcher | TaskEvents]:
    """What runs beside the requests, in the order started (and stopped in reverse)."""
    reconciler = Reconciler(
        sessions=state.sessions,
        jobs=state.jobs,
        redis=state.redis,
        interval_seconds=state.settings.reconcile_interval_seconds,
        queued_grace_seconds=state.settings.reconcile_queued_grace_seconds,
    )
    wakeups = Wakeups(sessions=state.sessions, jobs=state.jobs, redis=state.redis)
    assert state.callbacks is not None
    return [state.events, reconciler, wakeups, state.callbacks]


def _include_routers(app: FastAPI) -> None:
    for module in (
        messages,
        tasks,
        conversations,
        knowledge,
        admin_tenants,
        admin_usage,
        admin_callbacks,
        admin_prompts,
        admin_tasks,
        admin_conversations,
        admin_curated,
    ):
        app.include_router(module.router, responses=LIMIT_RESPONSES)
    # The OpenAI-compatible routes document their own errors, in OpenAI's shape.
    for module in (health, internal, openai_compat):
        app.include_router(module.router)


def _add_middleware(app: FastAPI, settings: GatewaySettings, metrics: GatewayMetrics) -> None:
    # An upload's multipart envelope is a little larger than the file itself.
    upload_cap = settings.max_upload_bytes + 64 * 1024
    # Outermost last: the body cap first, then the rate-limit headers, then idempotent replays.
    app.add_middleware(
        IdempotencyMiddleware,
        redis=lambda: _state(app).redis,
        authenticate=lambda token: _state(app).authenticator.authenticate(token),
        ttl_seconds=settings.idempotency_ttl_seconds,
        max_body_bytes=max(settings.max_body_bytes, upload_cap),
        streamed_paths=UPLOAD_PATHS,
    )
    app.add_middleware(RateLimitHeadersMiddleware)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        # Counted as they stream in, since their routes read them only after checking the caller.
        upload_caps=dict.fromkeys(UPLOAD_PATHS, upload_cap),
    )
    instrument(app, metrics, token=settings.metrics_token, public=settings.metrics_served_publicly)
    # Outside every middleware that answers by itself (413, replays): those answers carry the headers too.
    app.add_middleware(SecurityHeadersMiddleware)
    # Added last, so it runs first: every other layer (and its log lines) sees the request id.
    app.add_middleware(CorrelationIdMiddleware, header_name=REQUEST_ID_HEADER, validator=_valid_request_id)


def _add_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RateLimited, _rate_limited)
    app.add_exception_handler(QuotaExceeded, _quota_exceeded)
    app.add_exception_handler(OpenAIError, openai_compat.openai_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_unavailable)
    app.add_exception_handler(ConnectionError, _database_unavailable)
    app.add_exception_handler(RedisConnectionError, _queue_unavailable)
    app.add_exception_handler(RedisTimeoutError, _queue_unavailable)


def _state(app: FastAPI) -> AppState:
    state: AppState = app.state.parley
    return state


def _error(
    request: Request,
    status_code: int,
    detail: str,
    *,
    openai_type: str,
    headers: dict[str, str],
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """`{"detail": …}`, or OpenAI's error shape under /v1 (its SDKs read the message from there)."""
    if request.url.path.startswith("/v1/"):
        body = OpenAIError(status_code, detail, type=openai_type, code=openai_type).body()
    else:
        body = {"detail": detail, **(extra or {})}
    return JSONResponse(body, status_code=status_code, headers=headers)


async def _rate_limited(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimited)
    headers = {**exc.status.headers(), "Retry-After": str(exc.status.retry_after_seconds())}
    return _error(request, 429, exc.detail, openai_type="rate_limit_exceeded", headers=headers)


async def _quota_exceeded(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, QuotaExceeded)
    return _error(
        request,
        429,
        exc.detail,
        openai_type="insufficient_quota",
        headers={"Retry-After": str(exc.retry_after_seconds())},
        extra={"quota": exc.quota, "limit": exc.limit, "resets_at": exc.resets_at.isoformat()},
    )


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # Types only: SQLAlchemy's message lists the statement's parameters (a customer's text among them).
    log.error("database error on %s %s: %s", request.method, request.url.path, exception_types(exc))
    detail = "the database is unavailable; nothing was lost, please retry shortly"
    return _error(request, 503, detail, openai_type="service_unavailable", headers={"Retry-After": "5"})


async def _queue_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.error("redis error on %s %s: %s", request.method, request.url.path, exc)
    detail = (
        "the queue is unavailable; a message already stored is kept and is queued again "
        "when you retry with the same Idempotency-Key"
    )
    return _error(request, 503, detail, openai_type="service_unavailable", headers={"Retry-After": "5"})


def _is_json(content_type: str | None) -> bool:
    """Whether FastAPI parses the body as JSON (no Content-Type, application/json or */*+json)."""
    if not content_type:
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


async def _refuse_unpaired_surrogates(request: Request) -> None:
    """422 (400 in OpenAI's shape under /v1) for a JSON body with an unpaired surrogate, input not echoed."""
    if request.method in ("GET", "HEAD", "OPTIONS") or not _is_json(request.headers.get("content-type")):
        return
    try:
        # Starlette keeps the parsed body: the route's own parsing already did this work.
        document = await request.json()
    except (ValueError, RecursionError):
        return  # not JSON: the route's own parsing answers it
    if errors := surrogate_errors(document):
        raise RequestValidationError(errors)


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """OpenAI's error shape under /v1 (its SDKs read it); FastAPI's own everywhere else."""
    assert isinstance(exc, RequestValidationError)
    if request.url.path.startswith("/v1/"):
        return openai_compat.validation_error_for_openai(exc)
    return await request_validation_exception_handler(request, exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    """OpenAI's error shape under /v1 (e.g. a body that is not UTF-8); FastAPI's own everywhere else."""
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith("/v1/"):
        body = OpenAIError(exc.status_code, str(exc.detail)).body()
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)
    return await http_exception_handler(request, exc)
