"""Enqueueing worker jobs in RQ, by dotted name with JSON arguments.

RQ's client is synchronous; each call here is one or two Redis round trips, so the async
routes run them in a worker thread.
"""

from __future__ import annotations

from typing import Any, cast

from anyio import to_thread
from redis import Redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from parley_contract.names import (
    JOB_ANSWER,
    JOB_DELETE_DOCUMENT,
    JOB_INGEST,
    JOB_SEARCH,
    QUEUE_ANSWERS,
    QUEUE_HIGH,
    QUEUE_INGEST,
)


class SearchTimeout(Exception):
    pass


class SearchFailed(Exception):
    pass


class JobQueue:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._queues = {
            name: Queue(name, connection=redis, serializer=JSONSerializer)
            for name in (QUEUE_HIGH, QUEUE_ANSWERS, QUEUE_INGEST)
        }

    def _enqueue_once(self, queue: str, func: str, *args: Any, job_id: str, timeout: int) -> bool:
        """Enqueue unless a job with this id is still waiting or running; True if enqueued."""
        try:
            self._queues[queue].enqueue(
                func,
                *args,
                job_id=job_id,
                unique=True,
                job_timeout=timeout,
                result_ttl=600,
                failure_ttl=7 * 24 * 3600,
                # Immediate retries only: delayed ones need RQ's scheduler, which forks; the
                # reconciler covers anything longer.
                retry=Retry(max=2),
            )
            return True
        except DuplicateJobError:
            job = Job.fetch(job_id, connection=self._redis, serializer=JSONSerializer)
            if job.get_status() in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
                return False
            # A finished or failed job with the same id: the database asked for another run.
            job.delete()
            return self._enqueue_once(queue, func, *args, job_id=job_id, timeout=timeout)

    async def enqueue_answer(self, task_id: str) -> bool:
        return await to_thread.run_sync(
            lambda: self._enqueue_once(QUEUE_ANSWERS, JOB_ANSWER, task_id, job_id=f"answer-{task_id}", timeout=600)
        )

    def _requeue_answer(self, task_id: str, *, held_too_long: bool) -> bool:
        """Put a stuck task's job back unless it is really waiting or (within its lease) running."""
        job_id = f"answer-{task_id}"
        queue = self._queues[QUEUE_ANSWERS]
        try:
            job = Job.fetch(job_id, connection=self._redis, serializer=JSONSerializer)
        except NoSuchJobError:
            job = None
        if job is not None:
            status = job.get_status()
            waiting = status == JobStatus.QUEUED and self._redis.lpos(queue.key, job_id) is not None
            running = status == JobStatus.STARTED and not held_too_long
            if waiting or running or status in (JobStatus.SCHEDULED, JobStatus.DEFERRED):
                return False
            job.delete()  # lost from its queue, finished, or held by a worker that died
        return self._enqueue_once(QUEUE_ANSWERS, JOB_ANSWER, task_id, job_id=job_id, timeout=600)

    async def requeue_answer(self, task_id: str, *, held_too_long: bool) -> bool:
        return await to_thread.run_sync(lambda: self._requeue_answer(task_id, held_too_long=held_too_long))

    def _answer_job_started(self, task_id: str) -> bool:
        try:
            job = Job.fetch(f"answer-{task_id}", connection=self._redis, serializer=JSONSerializer)
        except NoSuchJobError:
            return False
        return job.get_status() == JobStatus.STARTED

    async def answer_job_started(self, task_id: str) -> bool:
        """Is a worker running the task's job right now (e.g. one that is just being told to wait)?"""
        return await to_thread.run_sync(lambda: self._answer_job_started(task_id))

    async def enqueue_ingest(self, document_id: str, sha256: str) -> bool:
        return await to_thread.run_sync(
            lambda: self._enqueue_once(
                QUEUE_INGEST, JOB_INGEST, document_id, job_id=f"ingest-{document_id}-{sha256[:16]}", timeout=3600
            )
        )

    async def enqueue_delete(self, document_id: str, tenant_id: str) -> bool:
        return await to_thread.run_sync(
            lambda: self._enqueue_once(
                QUEUE_INGEST, JOB_DELETE_DOCUMENT, document_id, tenant_id, job_id=f"delete-{document_id}", timeout=600
            )
        )

    async def search(self, *, tenant_id: str, query: str, top_k: int, wait_seconds: float) -> dict[str, Any]:
        """Run a retrieval on a worker (it owns the vector store) and wait for its result."""

        def run() -> dict[str, Any]:
            job = self._queues[QUEUE_HIGH].enqueue(
                JOB_SEARCH,
                tenant_id,
                query,
                top_k,
                job_timeout=max(int(wait_seconds), 1),
                ttl=max(int(wait_seconds), 1),  # nobody waits longer than this for it
                result_ttl=60,
                failure_ttl=600,
                # RQ logs a job's description; the default one would quote the search text.
                description=f"{JOB_SEARCH}(tenant={tenant_id!r})",
            )
            result = job.latest_result(timeout=max(int(wait_seconds), 1))
            if result is None:
                job.cancel()
                raise SearchTimeout(f"no worker answered the search within {wait_seconds:.0f} s")
            if result.type != result.Type.SUCCESSFUL:
                raise SearchFailed(str(result.exc_string or "search failed").strip().splitlines()[-1])
            return cast(dict[str, Any], result.return_value)

        return await to_thread.run_sync(run)
