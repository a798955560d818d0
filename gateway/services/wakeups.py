"""Running a deferred answer job again: when its burst closes, or when the task before it finishes.

A claim that must wait (see `services.ordering`) ends the worker's job at once: a worker never
sleeps on a task it may not answer yet. The gateway puts the job back itself:

- a task whose burst may still grow is due when the window has passed (`defer`);
- the open tasks of a conversation are due at once when one of its tasks finishes (`wake_conversation`).

Due tasks wait in a Redis sorted set; every gateway process looks for due ones a few times a
second and the one whose ZREM succeeds puts the job back. RQ's own delayed jobs need its
scheduler, which forks, and a worker must not fork after loading its models. If Redis loses the
set, nothing is lost: the reconciler puts back every task still queued after its grace period.
"""

from __future__ import annotations

import logging
import time

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.events import TaskEvents
from gateway.jobs import JobQueue
from gateway.models import Task
from parley_contract.runtime.loops import AsyncLoop
from parley_contract.schemas import ReplyEvent, TaskStatus

log = logging.getLogger(__name__)

DUE_KEY = "parley:deferred-answers"
#: A job that was just told to wait may still be finishing when its task is woken: look again this often…
RETRY_SECONDS = 0.5
#: …this many times; after that the reconciler's grace period covers it.
RETRIES = 20


def _member(task_id: str, retries: int) -> str:
    return f"{task_id}:{retries}"


async def defer(redis: Redis, *, task_id: str, delay_seconds: float, retries: int = RETRIES) -> None:
    """Put the task's job back after `delay_seconds` (best effort: the reconciler is the safety net)."""
    try:
        await redis.zadd(DUE_KEY, {_member(task_id, retries): time.time() + delay_seconds})
    except Exception:
        log.warning("could not schedule task %s; the reconciler will put it back", task_id, exc_info=True)


async def wake_conversation(
    *, session: AsyncSession, redis: Redis, events: TaskEvents, reply: ReplyEvent, limit: int = 50
) -> None:
    """After a task finished: wake the long-polls of the tasks its answer covered, and let the
    conversation's next task(s) run. All its queued tasks are woken: their claims sort out which
    one answers (the latest of a burst) and which wait. Best effort: the answer is stored already,
    and the reconciler puts back what this misses."""
    for merged_id in reply.merged_task_ids:
        await events.publish(merged_id)
    try:
        waiting = await session.exec(
            select(Task.id)
            .where(
                col(Task.conversation_id) == reply.conversation_id,
                col(Task.status) == TaskStatus.queued,
                col(Task.merged_into).is_(None),
            )
            .limit(limit)
        )
        task_ids = list(waiting.all())
    except Exception:
        log.warning("could not look for the next task of conversation %s", reply.conversation_id, exc_info=True)
        return
    for task_id in task_ids:
        await defer(redis, task_id=task_id, delay_seconds=0)


class Wakeups:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        jobs: JobQueue,
        redis: Redis,
        interval_seconds: float = 0.2,
    ) -> None:
        self._sessions = sessions
        self._jobs = jobs
        self._redis = redis
        self._loop = AsyncLoop(self.run_due, name="wakeups", interval_seconds=interval_seconds, error_pause_seconds=1.0)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def run_due(self, *, limit: int = 100) -> list[str]:
        """Put back the jobs of the tasks that are due; returns the ids of those enqueued."""
        due = await self._redis.zrangebyscore(DUE_KEY, "-inf", time.time(), start=0, num=limit)
        enqueued = []
        for raw in due:
            member = raw.decode() if isinstance(raw, bytes) else str(raw)
            if not await self._redis.zrem(DUE_KEY, member):
                continue  # another gateway process took it
            task_id, _, retries = member.rpartition(":")
            if await self._wake(task_id, retries=int(retries or 0)):
                enqueued.append(task_id)
        return enqueued

    async def _wake(self, task_id: str, *, retries: int) -> bool:
        if await self._jobs.requeue_answer(task_id, held_too_long=False):
            return True
        # Not put back: its job waits in the queue (it will run), or a worker still runs it. That
        # run may be the one just told to wait, finishing: while the task waits, look again shortly.
        if retries > 0 and await self._jobs.answer_job_started(task_id):
            async with self._sessions() as session:
                task = await session.get(Task, task_id)
            if task is not None and task.status == TaskStatus.queued and task.merged_into is None:
                await defer(self._redis, task_id=task_id, delay_seconds=RETRY_SECONDS, retries=retries - 1)
        return False
