"""The reconciler: the task table is the source of truth, RQ only a means of delivery.

RQ alone is not at-least-once: a queue lost with a Redis restart, an enqueue that failed after
the commit, or a worker killed mid-job leave a task that nobody will run. Every few seconds one
gateway process (a Redis lock elects it) looks for tasks `queued` longer than a grace period, or
`running` past their lease (which a live worker keeps renewing), and puts their jobs back. The
worker's claim decides who may answer, so a job that turns out not to be lost after all never
produces a second answer. Finished tasks whose reply event never reached the channel stream are
appended again; the adapters deliver a task's reply once, whatever the number of events.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.jobs import JobQueue
from gateway.models import Task, utcnow
from gateway.services.replies import append_reply
from gateway.services.tasks import lease_expired, mark_reply_published, unpublished_replies
from parley_contract.runtime.loops import AsyncLoop
from parley_contract.schemas import TaskStatus

log = logging.getLogger(__name__)

LOCK_KEY = "parley:reconciler-lock"


async def reconcile_once(
    *,
    sessions: async_sessionmaker[AsyncSession],
    jobs: JobQueue,
    redis: Redis,
    queued_grace_seconds: float,
    limit: int = 500,
) -> list[str]:
    """Requeue stuck tasks and re-publish lost replies; returns the ids of the tasks whose job was put back."""
    now = utcnow()
    async with sessions() as session:
        queued = await session.exec(
            select(Task.id)
            .where(
                col(Task.status) == TaskStatus.queued,
                col(Task.merged_into).is_(None),  # answered by the task it was merged into
                col(Task.created_at) < now - timedelta(seconds=queued_grace_seconds),
            )
            .limit(limit)
        )
        running = await session.exec(
            select(Task.id)
            .where(
                col(Task.status) == TaskStatus.running,
                lease_expired(now),
            )
            .limit(limit)
        )
        stuck = [(task_id, False) for task_id in queued.all()] + [(task_id, True) for task_id in running.all()]
        # The grace lets the request that finished the task append its own event first.
        lost_replies = await unpublished_replies(
            session, finished_before=now - timedelta(seconds=queued_grace_seconds), limit=limit
        )
        for reply in lost_replies:
            if await append_reply(redis=redis, reply=reply):
                await mark_reply_published(session, task_id=reply.task_id)
                log.warning("reconciler re-published the reply of task %s", reply.task_id)
    requeued = []
    for task_id, held_too_long in stuck:
        if await jobs.requeue_answer(task_id, held_too_long=held_too_long):
            requeued.append(task_id)
    if requeued:
        log.warning("reconciler put back %d stuck task(s): %s", len(requeued), ", ".join(requeued[:20]))
    return requeued


class Reconciler:
    """Runs `reconcile_once` every interval, in the one gateway process that holds the lock for it."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        jobs: JobQueue,
        redis: Redis,
        interval_seconds: float,
        queued_grace_seconds: float,
    ) -> None:
        self._sessions = sessions
        self._jobs = jobs
        self._redis = redis
        self._interval = interval_seconds
        self._queued_grace = queued_grace_seconds
        self._loop = AsyncLoop(self._round, name="reconciler", interval_seconds=interval_seconds)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _round(self) -> None:
        # One reconciler per interval across all gateway processes.
        if await self._redis.set(LOCK_KEY, "1", nx=True, px=max(int(self._interval * 900), 100)):
            await reconcile_once(
                sessions=self._sessions,
                jobs=self._jobs,
                redis=self._redis,
                queued_grace_seconds=self._queued_grace,
            )
