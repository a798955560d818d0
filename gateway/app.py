"""The gateway's ASGI application, built from settings by `create_app`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError

from gateway.api import admin_tenants, conversations, health, internal, knowledge, messages, openai_compat, tasks
from gateway.db import make_engine, make_sessionmaker
from gateway.deps import AppState
from gateway.events import TaskEvents
from gateway.jobs import JobQueue
from gateway.services.api_keys import ApiKeyAuthenticator, ensure_managed_keys
from gateway.services.openai_compat import OpenAIError
from gateway.services.reconciler import Reconciler
from gateway.settings import GatewaySettings

log = logging.getLogger(__name__)


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.async_database_url)
        redis = Redis.from_url(settings.redis_url, socket_timeout=10, socket_connect_timeout=5)
        # Searches block on the result stream for up to search_timeout_seconds.
        sync_redis = SyncRedis.from_url(
            settings.redis_url, socket_timeout=settings.search_timeout_seconds + 10, socket_connect_timeout=5
        )
        # The listener blocks on pub/sub indefinitely: no read timeout, a health check instead.
        events_redis = Redis.from_url(
            settings.redis_url, socket_timeout=None, socket_connect_timeout=5, health_check_interval=30
        )
        events = TaskEvents(events_redis)
        sessions = make_sessionmaker(engine)
        app.state.parley = AppState(
            settings=settings,
            engine=engine,
            sessions=sessions,
            redis=redis,
            jobs=JobQueue(sync_redis),
            events=events,
            authenticator=ApiKeyAuthenticator(sessions),
        )
        state: AppState = app.state.parley
        try:
            async with sessions() as session:
                await ensure_managed_keys(
                    session,
                    tenant_id=settings.default_tenant_id,
                    service_token=settings.service_token,
                    admin_token=settings.admin_token,
                    worker_token=settings.worker_token,
                )
        except (DBAPIError, OSError):
            # `migrate` wrote them too; the gateway still starts and answers 503 until the database is back.
            log.warning("could not write the environment's tokens as keys (database unavailable)", exc_info=True)
        reconciler = Reconciler(
            sessions=state.sessions,
            jobs=state.jobs,
            redis=redis,
            interval_seconds=settings.reconcile_interval_seconds,
            queued_grace_seconds=settings.reconcile_queued_grace_seconds,
            lease_seconds=settings.task_lease_seconds,
        )
        events.start()
        reconciler.start()
        try:
            yield
        finally:
            await reconciler.stop()
            await events.stop()
            await events_redis.aclose()
            await redis.aclose()
            sync_redis.close()
            await engine.dispose()

    app = FastAPI(
        title="Parley gateway",
        version="0.1.0",
        description="Accepts customers' messages, stores them, queues answers and serves the partner API.",
        lifespan=lifespan,
    )
    for module in (messages, tasks, conversations, knowledge, admin_tenants, health, internal, openai_compat):
        app.include_router(module.router)
    app.add_exception_handler(OpenAIError, openai_compat.openai_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(DBAPIError, _database_unavailable)
    app.add_exception_handler(ConnectionError, _database_unavailable)
    app.add_exception_handler(RedisConnectionError, _queue_unavailable)
    app.add_exception_handler(RedisTimeoutError, _queue_unavailable)
    return app


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.error("database error on %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": "the database is unavailable; nothing was lost, please retry shortly"},
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def _queue_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.error("redis error on %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {
            "detail": "the queue is unavailable; a message already stored is kept and is queued again "
            "when you retry with the same Idempotency-Key"
        },
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """OpenAI's error shape under /v1 (its SDKs read it); FastAPI's own everywhere else."""
    assert isinstance(exc, RequestValidationError)
    if request.url.path.startswith("/v1/"):
        return openai_compat.validation_error_for_openai(exc)
    return await request_validation_exception_handler(request, exc)
