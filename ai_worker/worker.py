"""The worker process: models loaded once, jobs run in-process, status published for /ready.

Two lanes share the loaded models and the embedded vector store (owned by this one process): the
main thread's RQ worker takes searches and answers, and a second RQ worker in a thread takes
ingestion and deletion jobs, so an answer never waits behind a document being parsed and embedded.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from typing import Any

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue, SimpleWorker
from rq.exceptions import StopRequested
from rq.job import Job
from rq.serializers import JSONSerializer
from rq.timeouts import JobTimeoutException, TimerDeathPenalty
from rq.worker import WorkerStatus

from ai_worker import runtime
from ai_worker.metrics import start_metrics_server
from ai_worker.settings import WorkerSettings
from parley_contract.names import ANSWER_QUEUES, INGEST_QUEUES, WORKER_STATUS_PREFIX
from parley_contract.runtime.loops import ThreadLoop

log = logging.getLogger(__name__)

STATUS_INTERVAL_SECONDS = 10
STATUS_TTL_SECONDS = 30
#: How often the idle ingestion lane looks up from its queue to see whether it must stop.
LANE_POLL_SECONDS = 2


class ParleyWorker(SimpleWorker):
    """RQ's non-forking worker: a fork after torch or llama.cpp started threads can deadlock,
    and forking per job would throw away the models loaded at start-up."""


class LaneJobTimeout(JobTimeoutException):
    """An ingestion job over its RQ timeout."""


class LaneDeathPenalty(TimerDeathPenalty):
    """RQ's job timeout by timer: SIGALRM, RQ's default, only reaches the main thread. It raises an
    exception class of its own because TimerDeathPenalty rewrites the `__init__` of the class it
    raises, and the main lane's timeouts raise JobTimeoutException."""

    def __init__(self, timeout: int, exception: type[BaseException] = JobTimeoutException, **kwargs: Any) -> None:
        super().__init__(timeout, LaneJobTimeout, **kwargs)


class IngestionWorker(ParleyWorker):
    """The ingestion lane's RQ worker, run in a thread: stopped through `stop_event`, not by signals."""

    death_penalty_class = LaneDeathPenalty

    def __init__(self, *args: Any, stop_event: threading.Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stop_event = stop_event

    def _install_signal_handlers(self) -> None:
        """Only the main thread may; SIGTERM stops the main lane, which then stops this one."""

    def procline(self, message: str) -> None:
        """The process title is the main lane's."""

    def dequeue_job_and_maintain_ttl(
        self, timeout: int | None, max_idle_time: int | None = None
    ) -> tuple[Job, Queue] | None:
        if timeout is None:  # burst: RQ does not block
            return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
        # RQ blocks until a job comes; short waits let the lane see a stop request in between.
        while not self._stop_event.is_set():
            found = super().dequeue_job_and_maintain_ttl(min(timeout, LANE_POLL_SECONDS), LANE_POLL_SECONDS)
            if found is not None:
                return found
        raise StopRequested()


class IngestionLane(threading.Thread):
    """Takes INGEST_QUEUES in a thread of the worker process, beside the main lane's answers."""

    def __init__(self, *, redis_url: str, name: str, burst: bool) -> None:
        super().__init__(name="parley-ingestion", daemon=True)
        self._redis_url = redis_url
        self._worker_name = name
        self._burst = burst
        self._stop_event = threading.Event()
        self._worker: IngestionWorker | None = None

    def run(self) -> None:
        for generation in itertools.count():
            connection = Redis.from_url(self._redis_url)
            self._worker = IngestionWorker(
                list(INGEST_QUEUES),
                name=self._worker_name if generation == 0 else f"{self._worker_name}-{generation}",
                connection=connection,
                serializer=JSONSerializer,
                stop_event=self._stop_event,
            )
            try:
                self._worker.work(burst=self._burst, with_scheduler=False, logging_level="INFO")
            except (RedisConnectionError, RedisTimeoutError):
                log.warning("the ingestion lane lost Redis while finishing a job", exc_info=True)
            except Exception:
                log.exception("the ingestion lane failed; it starts again")
                self._stop_event.wait(1)
            if self._burst or not wait_for_redis(connection, stop=self._stop_event):
                return
            log.warning("the ingestion lane takes jobs again")

    def busy(self) -> bool:
        return self._worker is not None and self._worker.get_state() == WorkerStatus.BUSY

    def stop(self) -> None:
        """Let the ingestion in flight finish (as the main lane lets its answer finish), then stop.

        An idle lane is not waited for long: during a Redis outage it sits in RQ's reconnect loop."""
        self._stop_event.set()
        if self._worker is not None:
            self._worker._stop_requested = True
        self.join(timeout=LANE_POLL_SECONDS + 3)
        if self.is_alive() and self.busy():
            log.info("waiting for the ingestion in flight to finish")
            self.join()


class StatusReporter:
    """Publishes this worker's component health every few seconds, even while a job runs."""

    def __init__(self, rt: runtime.Runtime, name: str) -> None:
        self._rt = rt
        self._worker_name = name
        # The first status is published by the caller before start(): the loop goes on from there.
        self._loop = ThreadLoop(self.publish, name="parley-status", interval_seconds=STATUS_INTERVAL_SECONDS)

    def start(self) -> None:
        self._loop.start()

    def publish(self) -> None:
        status = {
            "name": self._worker_name,
            "heartbeat": time.time(),
            "components": {k: c.as_dict() for k, c in self._rt.components.items()},
        }
        self._rt.redis.set(WORKER_STATUS_PREFIX + self._worker_name, json.dumps(status), ex=STATUS_TTL_SECONDS)

    def stop(self) -> None:
        self._loop.stop()
        try:
            self._rt.redis.delete(WORKER_STATUS_PREFIX + self._worker_name)
        except Exception:
            log.debug("could not remove worker status", exc_info=True)


def wait_for_redis(connection: Redis, *, interval_seconds: float = 1.0, stop: threading.Event | None = None) -> bool:
    """True once Redis answers; False if `stop` was set first."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            connection.ping()
            return True
        except (RedisConnectionError, RedisTimeoutError):
            stop.wait(interval_seconds)
    return False


def run_worker(settings: WorkerSettings, *, burst: bool = False) -> None:
    started = time.perf_counter()
    rt = runtime.load(settings)
    runtime.install(rt)
    name = settings.worker_name or runtime.default_worker_name()
    log.info("worker %s loaded its models in %.1f s", name, time.perf_counter() - started)
    if settings.metrics_port:
        start_metrics_server(settings.metrics_port, redis=rt.redis)
    reporter = StatusReporter(rt, name)
    reporter.publish()
    reporter.start()
    lane = IngestionLane(redis_url=settings.redis_url, name=f"{name}-ingestion", burst=burst)
    lane.start()
    try:
        for generation in itertools.count():
            # RQ sizes its connection's socket timeout for blocking dequeues; pooled connections
            # made earlier keep the old (short) timeout, so the worker gets a client of its own.
            connection = Redis.from_url(settings.redis_url)
            worker = ParleyWorker(
                list(ANSWER_QUEUES),
                name=name if generation == 0 else f"{name}-{generation}",  # the old one may not have unregistered
                connection=connection,
                serializer=JSONSerializer,
            )
            try:
                # No RQ scheduler: it runs in a forked process, and this process must not fork.
                worker.work(burst=burst, with_scheduler=False, logging_level="INFO")
            except (RedisConnectionError, RedisTimeoutError):
                log.warning("lost Redis while finishing a job", exc_info=True)
            # An idle worker told to stop leaves work() through StopRequested without setting
            # _stop_requested (only a busy one sets it); both set the shutdown date.
            if worker._stop_requested or worker._shutdown_requested_date is not None or burst:
                break
            # RQ quits its loop when Redis goes away mid-job; the models stay loaded and the
            # reconciler puts back the job that was in flight, so wait for Redis and go on.
            wait_for_redis(connection)
            log.warning("Redis is back; worker %s takes jobs again", name)
    finally:
        if burst:
            lane.join()
        lane.stop()
        reporter.stop()
        runtime.install(None)
        rt.close()
