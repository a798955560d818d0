"""Handing finished tasks to the channel adapters and to long-polling requests."""

from __future__ import annotations

import logging

from redis.asyncio import Redis

from gateway.events import TaskEvents
from parley_contract.names import reply_stream
from parley_contract.schemas import ReplyEvent

log = logging.getLogger(__name__)

#: Replies older than this many entries are trimmed from each channel's stream.
STREAM_MAXLEN = 100_000


async def publish_reply(*, redis: Redis, events: TaskEvents, reply: ReplyEvent) -> bool:
    """Wake waiters and append the reply to its channel's stream for delivery; False if it was not appended."""
    await events.publish(reply.task_id)
    return await append_reply(redis=redis, reply=reply)


async def append_reply(*, redis: Redis, reply: ReplyEvent) -> bool:
    try:
        await redis.xadd(
            reply_stream(reply.channel),
            {"task_id": reply.task_id, "event": reply.model_dump_json()},
            maxlen=STREAM_MAXLEN,
            approximate=True,
        )
    except Exception:
        # The answer is stored and the task not marked published: the reconciler appends it again.
        log.warning("could not publish reply for task %s", reply.task_id, exc_info=True)
        return False
    return True
