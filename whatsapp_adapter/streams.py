"""A Redis stream consumer group that survives restarts: pending entries first, then new ones."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

log = logging.getLogger(__name__)

Entry = tuple[str, dict[str, str]]
Handler = Callable[[str, dict[str, str]], Awaitable[None]]


class StreamConsumer:
    """Hands every entry to `handle`, then XACKs it; an entry whose handler raised stays pending and is retried.

    On start (and on every round) this consumer's own pending entries are handled first, so an
    entry read before a crash is finished after the restart; entries another consumer left idle for
    `claim_idle_ms` are taken over with XAUTOCLAIM. `stop()` lets the entry being handled finish
    and leaves the rest pending for the next start.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        stream: str,
        group: str,
        consumer: str,
        handle: Handler,
        claim_idle_ms: int,
        block_ms: int = 2000,
        error_pause_seconds: float = 1.0,
    ) -> None:
        self._redis = redis
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self._handle = handle
        self._claim_idle_ms = claim_idle_ms
        self._block_ms = block_ms
        self._error_pause = error_pause_seconds
        self._stopping = False
        self.handling = False

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _process(self, entries: list[Entry]) -> bool:
        """Handle and ack each entry; False when one failed (it stays pending)."""
        for entry_id, fields in entries:
            if self._stopping:
                return True  # the rest stay pending: handled after the restart
            if fields:
                self.handling = True
                try:
                    await self._handle(entry_id, fields)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("%s entry %s failed; it stays pending and is retried", self.stream, entry_id)
                    return False
                finally:
                    self.handling = False
            # An entry trimmed from the stream comes back without fields: nothing to do but ack it.
            await self._redis.xack(self.stream, self.group, entry_id)
        return True

    async def _read(self, start: str, *, block: int | None) -> list[Entry]:
        found: Any = await self._redis.xreadgroup(
            self.group, self.consumer, {self.stream: start}, count=10, block=block
        )
        entries: list[Entry] = []
        for _stream, stream_entries in found or []:
            entries.extend((entry_id, fields or {}) for entry_id, fields in stream_entries)
        return entries

    async def run_once(self) -> None:
        """One round: own pending entries, entries abandoned by others, then new ones (blocking briefly)."""
        pending = await self._read("0", block=None)
        if pending:
            if not await self._process(pending):
                await asyncio.sleep(self._error_pause)
            return
        _next, claimed, *_deleted = await self._redis.xautoclaim(
            self.stream, self.group, self.consumer, min_idle_time=self._claim_idle_ms, start_id="0-0", count=10
        )
        if claimed:
            return  # now they are ours: the next round handles them as our pending entries
        fresh = await self._read(">", block=self._block_ms)
        if fresh and not await self._process(fresh):
            await asyncio.sleep(self._error_pause)

    def stop(self) -> None:
        """Finish the entry being handled, then return from `run` (cancel the task if not `handling`)."""
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
