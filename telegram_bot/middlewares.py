"""Cross-cutting work around handlers: dropping repeated updates, per-user throttling."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject, Update

from telegram_bot import texts
from telegram_bot.store import Store

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class RepeatedUpdateMiddleware(BaseMiddleware):
    """An update_id seen before (Telegram re-sent it) is dropped. The gateway's idempotency key
    already prevents a second answer; this saves the work and the duplicate notices."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        if not await self.store.first_sight_of_update(event.update_id):
            log.info("update %d seen before: dropped", event.update_id)
            return None
        try:
            return await handler(event, data)
        except Exception:
            await self.store.forget_update(event.update_id)  # let a redelivery try again
            raise


class ThrottlingMiddleware(BaseMiddleware):
    """Per-user token bucket: `burst` messages at once, refilled at `rate` per second.

    A throttled message is not processed; the customer is asked (once per empty bucket) to resend.
    Buckets live in this process's memory: with several bot replicas each throttles on its own.
    """

    def __init__(self, *, burst: int, rate: float) -> None:
        self.burst = float(burst)
        self.rate = rate
        self._buckets: dict[int, tuple[float, float, bool]] = {}  # user → (tokens, updated, warned)

    def _take(self, user_id: int) -> tuple[bool, bool]:
        now = time.monotonic()
        tokens, updated, warned = self._buckets.get(user_id, (self.burst, now, False))
        tokens = min(self.burst, tokens + (now - updated) * self.rate)
        if tokens >= 1:
            self._buckets[user_id] = (tokens - 1, now, False)
            return True, False
        self._buckets[user_id] = (tokens, now, True)
        if len(self._buckets) > 100_000:
            self._buckets.clear()
        return False, not warned

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Message) or event.from_user is None:
            return await handler(event, data)
        allowed, warn = self._take(event.from_user.id)
        if allowed:
            return await handler(event, data)
        log.info("user throttled")
        if warn:
            await event.answer(texts.THROTTLED)
        return None
