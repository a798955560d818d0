"""Wakes long-polling requests when a task finishes, across gateway processes.

The gateway that stores a result publishes the task id on a Redis channel; every gateway
process runs one listener that sets the events of its local waiters. Waiters also re-read the
database every second, so a missed publish costs at most a second, never an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator

from redis.asyncio import Redis

from parley_contract.names import TASK_EVENTS_CHANNEL

log = logging.getLogger(__name__)


class TaskEvents:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._waiters: defaultdict[str, set[asyncio.Event]] = defaultdict(set)
        self._listener: asyncio.Task[None] | None = None

    async def publish(self, task_id: str) -> None:
        try:
            await self._redis.publish(TASK_EVENTS_CHANNEL, task_id)
        except Exception:  # waiters fall back to polling the database
            log.warning("could not publish task event", exc_info=True)

    @contextlib.asynccontextmanager
    async def subscription(self, task_id: str) -> AsyncIterator[asyncio.Event]:
        event = asyncio.Event()
        self._waiters[task_id].add(event)
        try:
            yield event
        finally:
            waiters = self._waiters.get(task_id)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[task_id]

    def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="task-events")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener

    async def _listen(self) -> None:
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(TASK_EVENTS_CHANNEL)
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        data = message["data"]
                        task_id = data.decode() if isinstance(data, bytes) else str(data)
                        for event in self._waiters.get(task_id, ()):
                            event.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("task event listener lost Redis; retrying", exc_info=True)
                await asyncio.sleep(1.0)
