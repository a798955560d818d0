"""The bot's durable state in Redis: reply targets, delivery markers, pending messages, choices.

Keys live under `parley:telegram:<bot id>:` so two bots can share a Redis.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from redis.asyncio import Redis

#: How long delivery markers and reply targets are kept (replies older than this are not redelivered).
KEEP_SECONDS = 7 * 24 * 3600
#: Telegram keeps undelivered updates for 24 h; a repeated update is recognised for that long.
UPDATE_SECONDS = 24 * 3600


@dataclass
class ReplyTarget:
    """Where a task's answer goes: the customer's chat, as a reply to their message."""

    chat_id: int
    message_id: int


@dataclass
class PendingMessage:
    """A customer's message the gateway has not accepted yet (unreachable or failing)."""

    key: str
    chat_id: int
    message_id: int
    user_id: str
    name: str | None
    language: str | None
    text: str
    attempts: int = 0


class Store:
    def __init__(self, redis: Redis, bot_id: int) -> None:
        self.redis = redis
        self.prefix = f"parley:telegram:{bot_id}:"

    def _k(self, *parts: object) -> str:
        return self.prefix + ":".join(str(p) for p in parts)

    # ---- repeated updates ----

    async def first_sight_of_update(self, update_id: int) -> bool:
        return bool(await self.redis.set(self._k("update", update_id), "1", nx=True, ex=UPDATE_SECONDS))

    async def forget_update(self, update_id: int) -> None:
        await self.redis.delete(self._k("update", update_id))

    # ---- reply targets and delivery ----

    async def remember_target(self, task_id: str, target: ReplyTarget) -> None:
        await self.redis.set(self._k("target", task_id), json.dumps(asdict(target)), ex=KEEP_SECONDS)

    async def target(self, task_id: str) -> ReplyTarget | None:
        raw = await self.redis.get(self._k("target", task_id))
        return ReplyTarget(**json.loads(raw)) if raw else None

    async def is_delivered(self, task_id: str) -> bool:
        return bool(await self.redis.exists(self._k("delivered", task_id)))

    async def mark_delivered(self, task_id: str) -> None:
        await self.redis.set(self._k("delivered", task_id), str(time.time()), ex=KEEP_SECONDS)

    async def lock_delivery(self, task_id: str, *, consumer: str, instance: str, seconds: int = 60) -> bool:
        """One deliverer per task at a time (SET NX with a TTL, so a crashed holder frees it).

        A lock left by an earlier run of this same consumer (it crashed mid-delivery) is taken over
        at once: consumer names are unique per replica, so that holder is dead."""
        key = self._k("delivering", task_id)
        owner = f"{consumer}|{instance}"
        if await self.redis.set(key, owner, nx=True, ex=seconds):
            return True
        holder = await self.redis.get(key)
        holder_text = holder.decode() if isinstance(holder, bytes) else str(holder or "")
        if holder_text.split("|", 1)[0] == consumer and holder_text != owner:
            return bool(await self.redis.set(key, owner, xx=True, ex=seconds))
        return False

    async def unlock_delivery(self, task_id: str) -> None:
        await self.redis.delete(self._k("delivering", task_id))

    async def sent_parts(self, task_id: str) -> dict[int, int]:
        """Parts of a split answer already sent (part index → Telegram message id)."""
        raw: dict[Any, Any] = await self.redis.hgetall(self._k("parts", task_id))
        return {int(k): int(v) for k, v in raw.items()}

    async def mark_part_sent(self, task_id: str, index: int, message_id: int) -> None:
        key = self._k("parts", task_id)
        await self.redis.hset(key, str(index), str(message_id))
        await self.redis.expire(key, KEEP_SECONDS)

    async def sent_pieces(self, task_id: str, index: int) -> dict[int, int]:
        """Pieces of part `index` already sent as plain text after Telegram refused its HTML
        (piece number → Telegram message id)."""
        raw: dict[Any, Any] = await self.redis.hgetall(self._k("pieces", task_id, index))
        return {int(k): int(v) for k, v in raw.items()}

    async def mark_piece_sent(self, task_id: str, index: int, piece: int, message_id: int) -> None:
        key = self._k("pieces", task_id, index)
        await self.redis.hset(key, str(piece), str(message_id))
        await self.redis.expire(key, KEEP_SECONDS)

    # ---- the customer's language choice (/language) ----

    async def set_language(self, chat_id: int, language: str) -> None:
        await self.redis.set(self._k("language", chat_id), language)

    async def language(self, chat_id: int) -> str | None:
        raw = await self.redis.get(self._k("language", chat_id))
        return raw.decode() if isinstance(raw, bytes) else raw

    # ---- messages waiting for the gateway ----

    async def park(self, message: PendingMessage, *, due: float) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._k("pending"), message.key, json.dumps(asdict(message)))
            pipe.zadd(self._k("pending-due"), {message.key: due})
            await pipe.execute()

    async def due_pending(self, now: float, limit: int = 20) -> list[PendingMessage]:
        keys: list[Any] = await self.redis.zrangebyscore(self._k("pending-due"), "-inf", now, start=0, num=limit)
        if not keys:
            return []
        raws: list[Any] = await self.redis.hmget(self._k("pending"), keys)
        return [PendingMessage(**json.loads(raw)) for raw in raws if raw]

    async def unpark(self, key: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self._k("pending"), key)
            pipe.zrem(self._k("pending-due"), key)
            await pipe.execute()

    async def pending_count(self) -> int:
        return int(await self.redis.zcard(self._k("pending-due")))
