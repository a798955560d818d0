"""Requests per minute in Redis (moving window, the `limits` library): per API key and per end-user chat."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import Redis


@dataclass(frozen=True)
class RateLimitStatus:
    """One limit after a request was counted against it."""

    limit: int
    remaining: int
    #: When the window has room again (epoch seconds).
    reset_at: float
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }

    def retry_after_seconds(self) -> int:
        return max(1, math.ceil(self.reset_at - time.time()))


class RateLimited(Exception):
    """A request over a rate limit (the app answers 429 with the status's headers)."""

    def __init__(self, detail: str, status: RateLimitStatus) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status


class RateLimiter:
    """Counts requests in Redis; shares the gateway's redis-py asyncio connection pool."""

    def __init__(self, redis: Redis, redis_url: str) -> None:
        # limits picks its Redis client by `implementation`; its default is coredis, which we do not use.
        storage = RedisStorage(
            "async+" + redis_url,
            implementation="redispy",
            connection_pool=redis.connection_pool,  # type: ignore[arg-type]  # documented; typed too narrowly
            key_prefix="parley:ratelimit",
        )
        self._limiter = MovingWindowRateLimiter(storage)

    async def hit(self, *, namespace: str, identity: tuple[str, ...], per_minute: int) -> RateLimitStatus:
        item = RateLimitItemPerMinute(per_minute, namespace=namespace)
        allowed = await self._limiter.hit(item, *identity)
        stats = await self._limiter.get_window_stats(item, *identity)
        return RateLimitStatus(
            limit=per_minute, remaining=max(0, stats.remaining), reset_at=stats.reset_time, allowed=allowed
        )


async def limit_key(limiter: RateLimiter, *, key_id: str, per_minute: int) -> RateLimitStatus:
    """Count one request of an API key; raises RateLimited over its limit."""
    status = await limiter.hit(namespace="key", identity=(key_id,), per_minute=per_minute)
    if not status.allowed:
        raise RateLimited(
            f"rate limit exceeded: this API key may make {per_minute} requests per minute; "
            f"retry in {status.retry_after_seconds()} s",
            status,
        )
    return status


async def limit_chat(
    limiter: RateLimiter, *, tenant_id: str, channel: str, chat_id: str, per_minute: int
) -> RateLimitStatus:
    """Count one message of an end-user chat; raises RateLimited over its limit."""
    status = await limiter.hit(namespace="chat", identity=(tenant_id, channel, chat_id), per_minute=per_minute)
    if not status.allowed:
        raise RateLimited(
            f"rate limit exceeded: chat {chat_id!r} on {channel!r} may send {per_minute} messages per minute; "
            f"retry in {status.retry_after_seconds()} s",
            status,
        )
    return status
