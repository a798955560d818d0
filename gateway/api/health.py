from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gateway.deps import RedisDep, SessionDep, SettingsDep, StateDep
from gateway.services.health import check_database, check_redis, is_operator, summarize_workers, worker_statuses

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


_bearer = HTTPBearer(auto_error=False, description="Optional: an operator's admin token adds the checks' details")


@router.get(
    "/ready",
    responses={503: {"description": "Not ready; with an operator's admin token, the body says which check failed"}},
)
async def ready(
    session: SessionDep,
    redis: RedisDep,
    settings: SettingsDep,
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> JSONResponse:
    """Readiness: database, Redis, and at least one live worker with its models loaded. The checks
    (errors, model paths) are shown to the deployment's operator only."""
    checks: dict[str, Any] = {"database": await check_database(session), "redis": await check_redis(redis)}
    workers_ok = False
    if checks["redis"] == "ok":
        workers_ok, checks["workers"] = summarize_workers(
            await worker_statuses(redis, stale_seconds=settings.worker_stale_seconds)
        )
    else:
        checks["workers"] = "unknown: Redis is unavailable"
    is_ready = checks["database"] == "ok" and checks["redis"] == "ok" and workers_ok
    body: dict[str, Any] = {"ready": is_ready}
    token = credentials.credentials if credentials is not None else None
    if await is_operator(
        token,
        admin_token=settings.admin_token,
        authenticator=state.authenticator,
    ):
        body["checks"] = checks
    return JSONResponse(body, status_code=200 if is_ready else 503)
