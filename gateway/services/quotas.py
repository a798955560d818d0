"""Daily quotas per tenant (UTC days) in Redis, the cap on a tenant's tasks in flight, and the gate
every new end-user message passes.

Messages are counted when a new task is accepted (`admit_chat_message` reserves one, and the
caller releases it when the message turned out to be a duplicate); generated tokens (prompt +
completion) are counted when a worker completes a task. Counters live two days, then expire.

Tasks in flight (queued or running) are counted in the database, the tasks' source of truth, while
the new task's transaction holds the tenant's row (`hold_admission`): two messages cannot both take
the last place, and a task that finishes, fails or is lost with its worker counts as the database says.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.models import Task, Tenant
from gateway.services.rate_limits import RateLimited, RateLimiter, RateLimitStatus, limit_chat
from parley_contract.schemas import TaskStatus, TenantSettings

_COUNTER_TTL_SECONDS = 2 * 24 * 3600
#: What a 429 for too many tasks in flight asks the caller to wait: about one short answer's time.
IN_FLIGHT_RETRY_AFTER_SECONDS = 5


class QuotaExceeded(Exception):
    """The tenant's daily quota is spent (the app answers 429 with Retry-After until UTC midnight)."""

    def __init__(self, *, quota: str, limit: int, resets_at: datetime) -> None:
        self.quota = quota
        self.limit = limit
        self.resets_at = resets_at
        self.detail = (
            f"daily {quota} quota of this tenant is spent ({limit} per UTC day); "
            f"it resets at {resets_at.isoformat().replace('+00:00', 'Z')}"
        )
        super().__init__(self.detail)

    def retry_after_seconds(self, now: datetime | None = None) -> int:
        return max(1, math.ceil((self.resets_at - (now or datetime.now(UTC))).total_seconds()))


@dataclass(frozen=True)
class Usage:
    day: str
    messages: int
    tokens: int
    resets_at: datetime


def next_utc_midnight(now: datetime) -> datetime:
    return datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


def _counter(tenant_id: str, day: str, what: str) -> str:
    return f"parley:quota:{tenant_id}:{day}:{what}"


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


async def get_usage(redis: Redis, *, tenant_id: str, now: datetime | None = None) -> Usage:
    at = _now(now)
    day = at.date().isoformat()
    messages, tokens = await redis.mget(_counter(tenant_id, day, "messages"), _counter(tenant_id, day, "tokens"))
    return Usage(day=day, messages=int(messages or 0), tokens=int(tokens or 0), resets_at=next_utc_midnight(at))


async def check_token_quota(redis: Redis, *, tenant_id: str, quota: int | None, now: datetime | None = None) -> None:
    """Raises QuotaExceeded when today's generated tokens reached `quota` (None: unlimited)."""
    if quota is None:
        return
    usage = await get_usage(redis, tenant_id=tenant_id, now=now)
    if usage.tokens >= quota:
        raise QuotaExceeded(quota="token", limit=quota, resets_at=usage.resets_at)


async def reserve_message(redis: Redis, *, tenant_id: str, quota: int | None, now: datetime | None = None) -> str:
    """Count one message for today; raises QuotaExceeded (and counts nothing) when `quota` is spent.
    Returns the counter to pass to `release_message` if the message was not new after all."""
    at = _now(now)
    counter = _counter(tenant_id, at.date().isoformat(), "messages")
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(counter)
        pipe.expire(counter, _COUNTER_TTL_SECONDS)
        count, _ = await pipe.execute()
    if quota is not None and int(count) > quota:
        await redis.decr(counter)
        raise QuotaExceeded(quota="message", limit=quota, resets_at=next_utc_midnight(at))
    return counter


async def release_message(redis: Redis, *, counter: str) -> None:
    await redis.decr(counter)


async def record_tokens(redis: Redis, *, tenant_id: str, tokens: int, now: datetime | None = None) -> None:
    if tokens <= 0:
        return
    counter = _counter(tenant_id, _now(now).date().isoformat(), "tokens")
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incrby(counter, tokens)
        pipe.expire(counter, _COUNTER_TTL_SECONDS)
        await pipe.execute()


class TooManyTasksInFlight(RateLimited):
    """The tenant has `limit` messages queued or being answered (the app answers 429 with Retry-After)."""

    def __init__(self, *, limit: int) -> None:
        status = RateLimitStatus(
            limit=limit, remaining=0, reset_at=time.time() + IN_FLIGHT_RETRY_AFTER_SECONDS, allowed=False
        )
        super().__init__(
            f"too many messages of this tenant are waiting for an answer (its limit is {limit} at once); "
            f"retry in {IN_FLIGHT_RETRY_AFTER_SECONDS} s",
            status,
        )


async def hold_admission(session: AsyncSession, *, tenant_id: str) -> None:
    """Take the tenant's admission lock for the rest of `session`'s transaction: other new messages
    of the tenant wait here until it commits or rolls back, then see its task."""
    if session.get_bind().dialect.name == "postgresql":
        # FOR NO KEY UPDATE: inserts that reference the tenant (rows of other requests) are not blocked.
        await session.exec(select(Tenant.id).where(col(Tenant.id) == tenant_id).with_for_update(key_share=True))
    else:
        # SQLite has no row locks: a write takes the database's write lock until the transaction ends.
        await session.exec(
            update(Tenant)
            .where(col(Tenant.id) == tenant_id)
            .values(name=col(Tenant.name))
            .execution_options(synchronize_session=False)
        )


async def tasks_in_flight(session: AsyncSession, *, tenant_id: str) -> int:
    """The tenant's tasks queued or running (a task merged into another is answered by that one)."""
    count = await session.exec(
        select(func.count())
        .select_from(Task)
        .where(
            col(Task.tenant_id) == tenant_id,
            col(Task.status).in_([TaskStatus.queued, TaskStatus.running]),
            col(Task.merged_into).is_(None),
        )
    )
    return int(count.one())


async def check_tasks_in_flight(session: AsyncSession, *, tenant_id: str, limit: int) -> None:
    """Raises TooManyTasksInFlight (after rolling back, which lets go of the admission lock) when the
    tenant has `limit` tasks in flight. Call it holding `hold_admission`, and add the task in the same
    transaction: otherwise two requests could both see room for one."""
    if await tasks_in_flight(session, tenant_id=tenant_id) >= limit:
        await session.rollback()
        raise TooManyTasksInFlight(limit=limit)


@dataclass(frozen=True)
class Admission:
    """A message let in by `admit_chat_message`: the chat's rate-limit status and the reserved
    quota count, which `release` gives back when the message was a duplicate. The cap on the
    tenant's tasks in flight is checked when the task is stored (`check_tasks_in_flight`)."""

    rate_limit: RateLimitStatus
    _redis: Redis
    _counter: str
    max_tasks_in_flight: int

    async def release(self) -> None:
        await release_message(self._redis, counter=self._counter)


async def admit_chat_message(
    *,
    redis: Redis,
    limiter: RateLimiter,
    tenant_settings: TenantSettings,
    chat_rate_limit_per_minute: int,
    default_max_tasks_in_flight: int,
    tenant_id: str,
    channel: str,
    chat_id: str,
) -> Admission:
    """Let one end-user message in, or raise RateLimited / QuotaExceeded.

    Applies the per-chat rate limit, the daily token quota and the daily message quota (one
    message reserved). Every route that turns an end-user message into a task calls this.
    """
    status = await limit_chat(
        limiter, tenant_id=tenant_id, channel=channel, chat_id=chat_id, per_minute=chat_rate_limit_per_minute
    )
    await check_token_quota(redis, tenant_id=tenant_id, quota=tenant_settings.daily_token_quota)
    counter = await reserve_message(redis, tenant_id=tenant_id, quota=tenant_settings.daily_message_quota)
    in_flight = tenant_settings.max_tasks_in_flight
    return Admission(
        rate_limit=status,
        _redis=redis,
        _counter=counter,
        max_tasks_in_flight=default_max_tasks_in_flight if in_flight is None else in_flight,
    )
