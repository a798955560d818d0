"""Readiness: the database answers, Redis answers, and a worker with working models is alive."""

from __future__ import annotations

import json
import time
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from parley_contract.names import WORKER_STATUS_PREFIX


async def check_database(session: AsyncSession) -> str:
    try:
        await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except Exception as exc:
        return f"unavailable: {type(exc).__name__}: {exc}".splitlines()[0]
    return "ok"


async def check_redis(redis: Redis) -> str:
    try:
        await redis.ping()
    except Exception as exc:
        return f"unavailable: {type(exc).__name__}: {exc}".splitlines()[0]
    return "ok"


async def worker_statuses(redis: Redis, *, stale_seconds: int) -> list[dict[str, Any]]:
    statuses: list[dict[str, Any]] = []
    async for key in redis.scan_iter(match=f"{WORKER_STATUS_PREFIX}*", count=100):
        raw = await redis.get(key)
        if raw is None:
            continue
        status = json.loads(raw)
        if time.time() - float(status.get("heartbeat", 0)) <= stale_seconds:
            statuses.append(status)
    return statuses


def summarize_workers(statuses: list[dict[str, Any]]) -> tuple[bool, str | list[dict[str, Any]]]:
    """Ready when at least one live worker has all its models loaded; otherwise say why."""
    if not statuses:
        return False, "no live worker: start one with `python -m ai_worker worker`"
    healthy = [s for s in statuses if all(c.get("ok") for c in s.get("components", {}).values())]
    return bool(healthy), statuses
