"""Enqueueing worker jobs in RQ, by dotted name with JSON arguments.

RQ's client is synchronous; each call here is one or two Redis round trips, so the async
routes run them in a worker thread.
"""

from __future__ import annotations

from typing import Any, cast

from anyio import to_thread
from redis import Redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError, InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus
from rq.results import Result
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

#: What a search refused for busy workers tells the caller to wait (Retry-After).
SEARCH_RETRY_AFTER_SECONDS = 5
#: A queued search outlives the caller's wait by this much, so that it can still be withdrawn: RQ
#: cannot cancel a job whose key has expired (it raises InvalidJobOperation).
SEARCH_WITHDRAW_MARGIN_SECONDS = 60


class SearchBusy(Exception):
    """No worker took the search up within the wait (all busy with answers, or none running)."""


class SearchTimeout(Exception):
    """A worker took the search up but did not finish it within the wait."""


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
            wait = max(int(wait_seconds), 1)
            job = self._queues[QUEUE_HIGH].enqueue(
                JOB_SEARCH,
                tenant_id,
                query,
                top_k,
                job_timeout=wait,
                ttl=wait + SEARCH_WITHDRAW_MARGIN_SECONDS,
                result_ttl=60,
                failure_ttl=600,
                # RQ logs a job's description; the default one would quote the search text.
                description=f"{JOB_SEARCH}(tenant={tenant_id!r})",
            )
            result = job.latest_result(timeout=wait)
            if result is None:
                result = self._withdraw_search(job, waited=wait)
            if result.type != result.Type.SUCCESSFUL:
                raise SearchFailed(str(result.exc_string or "search failed").strip().splitlines()[-1])
            return cast(dict[str, Any], result.return_value)

        return await to_thread.run_sync(run)

    def _withdraw_search(self, job: Job, *, waited: int) -> Result:
        """Cancel a search nobody waits for any more, so no worker runs it later; raise why it got no result."""
        try:
            status = job.get_status()
            if status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
                job.cancel()
        except (InvalidJobOperation, NoSuchJobError):
            status = None  # gone meanwhile: expired, or finished and cleaned up
        if status in (JobStatus.FINISHED, JobStatus.FAILED):
            finished = job.latest_result()  # just now, after the wait ended
            if finished is not None:
                return finished
        if status == JobStatus.STARTED:
            raise SearchTimeout(f"the worker did not finish the search within {waited} s; retry shortly")
        raise SearchBusy(
            f"no worker was free to take the search within {waited} s (all busy, or none running); retry shortly"
        )
