"""Daily quotas per tenant (UTC days) in Redis, and the gate every new end-user message passes.

Messages are counted when a new task is accepted (`admit_chat_message` reserves one, and the
caller releases it when the message turned out to be a duplicate); generated tokens (prompt +
completion) are counted when a worker completes a task. Counters live two days, then expire.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from gateway.services.rate_limits import RateLimiter, RateLimitStatus, limit_chat
from parley_contract.schemas import TenantSettings

_COUNTER_TTL_SECONDS = 2 * 24 * 3600


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


@dataclass(frozen=True)
class Admission:
    """A message let in by `admit_chat_message`: the chat's rate-limit status and the reserved
    quota count, which `release` gives back when the message was a duplicate."""

    rate_limit: RateLimitStatus
    _redis: Redis
    _counter: str

    async def release(self) -> None:
        await release_message(self._redis, counter=self._counter)


async def admit_chat_message(
    *,
    redis: Redis,
    limiter: RateLimiter,
    tenant_settings: TenantSettings,
    chat_rate_limit_per_minute: int,
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
    return Admission(rate_limit=status, _redis=redis, _counter=counter)
