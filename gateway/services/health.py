"""Readiness: the database answers, Redis answers, and a worker with working models is alive.

The checks' details (driver errors, model file paths, worker names) describe the deployment:
only its operators see them; anyone else learns ready or not.
"""

from __future__ import annotations

import hmac
import json
import time
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.auth import Authenticator
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


async def is_operator(token: str | None, *, admin_token: str, authenticator: Authenticator) -> bool:
    """A key with the deployment's `operator` scope (ADMIN_TOKEN's). The environment's ADMIN_TOKEN
    is recognised without the database, so /ready can still say why while the database is down."""
    if not token:
        return False
    if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
        return True
    try:
        principal = await authenticator.authenticate(token)
    except (DBAPIError, OSError):
        return False
    return principal is not None and principal.is_operator
