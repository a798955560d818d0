"""A Redis-stream consumer group that survives restarts: pending entries first, then new ones.

Both channel adapters read their streams through it (Telegram its reply stream; WhatsApp its
inbound and reply streams), so both behave alike when they face the same situation:

- every entry is handed to `handle`; an entry is XACKed when `handle` returns (True or None);
- an entry whose handler raised, or returned False (e.g. another consumer holds its lock), stays
  pending: the next round retries this consumer's pending entries first, after `error_pause_seconds`,
  so a channel that is down holds what is behind it, in order, and loses nothing;
- entries another consumer left idle for `claim_idle_ms` are taken over with XAUTOCLAIM;
- `stop()` lets the batch being handled finish and leaves the rest pending for the next start.

An entry trimmed from the stream comes back without fields; it is acked and skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

log = logging.getLogger(__name__)

Fields = dict[Any, Any]
Entry = tuple[Any, Fields]
Handler = Callable[[Any, Fields], Awaitable[bool | None]]


class StreamConsumer:
    def __init__(
        self,
        redis: Redis,
        *,
        stream: str,
        group: str,
        consumer: str,
        handle: Handler,
        claim_idle_ms: int,
        concurrent: bool = False,
        block_ms: int = 2000,
        count: int = 10,
        error_pause_seconds: float = 1.0,
    ) -> None:
        """`concurrent`: a batch's entries are handled at once (independent chats), else one by one in order."""
        self._redis = redis
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self._handle = handle
        self._claim_idle_ms = claim_idle_ms
        self._concurrent = concurrent
        self._block_ms = block_ms
        self._count = count
        self._error_pause = error_pause_seconds
        self._stopping = False
        #: True while a batch is being handled: a stopping service lets it finish rather than cut a send.
        self.handling = False

    async def ensure_group(self) -> None:
        try:
            # From the stream's start: entries made before the consumer's very first start are handled too.
            await self._redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _handle_one(self, entry_id: Any, fields: Fields) -> bool:
        if fields:
            try:
                if await self._handle(entry_id, fields) is False:
                    return False
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s entry %s failed; it stays pending and is retried", self.stream, _text(entry_id))
                return False
        await self._redis.xack(self.stream, self.group, entry_id)
        return True

    async def _process(self, entries: list[Entry]) -> bool:
        """Handle and ack the entries; False when one was left pending."""
        if self._stopping or not entries:
            return True  # read just as the service stops: pending, handled after the restart
        self.handling = True
        try:
            if self._concurrent:
                return all(await asyncio.gather(*(self._handle_one(i, f) for i, f in entries)))
            for entry_id, fields in entries:
                if self._stopping:
                    return True
                if not await self._handle_one(entry_id, fields):
                    return False  # in order: what follows waits for this one
            return True
        finally:
            self.handling = False

    async def _read(self, start: str, *, block: int | None) -> list[Entry]:
        found: Any = await self._redis.xreadgroup(
            self.group, self.consumer, {self.stream: start}, count=self._count, block=block
        )
        return [(entry_id, fields or {}) for entry_id, fields in _entries(found)]

    async def run_once(self) -> None:
        """One round: own pending entries, entries abandoned by others, then new ones (blocking briefly)."""
        pending = await self._read("0", block=None)
        if pending:
            if not await self._process(pending):
                await asyncio.sleep(self._error_pause)
            return
        _next, claimed, *_deleted = await self._redis.xautoclaim(
            self.stream, self.group, self.consumer, min_idle_time=self._claim_idle_ms, start_id="0-0", count=self._count
        )
        if claimed:
            log.info("%s: took over %d unacknowledged entries", self.stream, len(claimed))
            return  # now they are ours: the next round handles them as our pending entries
        fresh = await self._read(">", block=self._block_ms)
        if not await self._process(fresh):
            await asyncio.sleep(self._error_pause)

    def stop(self) -> None:
        """Finish the batch being handled, then return from `run` (cancel the task if not `handling`)."""
        self._stopping = True

    async def run(self) -> None:
        while not self._stopping:
            try:
                await self.ensure_group()
                while not self._stopping:
                    await self.run_once()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("%s: Redis unavailable (%s); retrying", self.stream, exc)
                await asyncio.sleep(self._error_pause)


def _entries(reply: Any) -> list[Any]:
    """The (id, fields) entries of an XREADGROUP reply for one stream (RESP2 list or RESP3 dict)."""
    if not reply:
        return []
    if isinstance(reply, dict):
        return [
            entry
            for entries in reply.values()
            for entry in (entries[0] if entries and isinstance(entries[0], list) else entries)
        ]
    return [entry for _stream, entries in reply for entry in entries]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
