from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gateway.deps import RedisDep, SessionDep, SettingsDep
from gateway.services.health import check_database, check_redis, summarize_workers, worker_statuses

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/ready", responses={503: {"description": "Not ready; the body says which check failed"}})
async def ready(session: SessionDep, redis: RedisDep, settings: SettingsDep) -> JSONResponse:
    """Readiness: database, Redis, and at least one live worker with its models loaded."""
    checks: dict[str, Any] = {"database": await check_database(session), "redis": await check_redis(redis)}
    workers_ok = False
    if checks["redis"] == "ok":
        workers_ok, checks["workers"] = summarize_workers(
            await worker_statuses(redis, stale_seconds=settings.worker_stale_seconds)
        )
    else:
        checks["workers"] = "unknown: Redis is unavailable"
    is_ready = checks["database"] == "ok" and checks["redis"] == "ok" and workers_ok
    return JSONResponse({"ready": is_ready, "checks": checks}, status_code=200 if is_ready else 503)
