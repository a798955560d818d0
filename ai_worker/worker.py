"""The worker process: models loaded once, jobs run in-process, status published for /ready."""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from ai_worker import runtime
from ai_worker.metrics import start_metrics_server
from ai_worker.settings import WorkerSettings
from parley_contract.names import WORKER_QUEUES, WORKER_STATUS_PREFIX

log = logging.getLogger(__name__)

STATUS_INTERVAL_SECONDS = 10
STATUS_TTL_SECONDS = 30


class ParleyWorker(SimpleWorker):
    """RQ's non-forking worker: a fork after torch or llama.cpp started threads can deadlock,
    and forking per job would throw away the models loaded at start-up."""


class StatusReporter(threading.Thread):
    """Publishes this worker's component health every few seconds, even while a job runs."""

    def __init__(self, rt: runtime.Runtime, name: str) -> None:
        super().__init__(name="parley-status", daemon=True)
        self._rt = rt
        self._worker_name = name
        self._stop_event = threading.Event()

    def publish(self) -> None:
        status = {
            "name": self._worker_name,
            "heartbeat": time.time(),
            "components": {k: c.as_dict() for k, c in self._rt.components.items()},
        }
        self._rt.redis.set(WORKER_STATUS_PREFIX + self._worker_name, json.dumps(status), ex=STATUS_TTL_SECONDS)

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.publish()
            except Exception:
                log.warning("could not publish worker status", exc_info=True)
            self._stop_event.wait(STATUS_INTERVAL_SECONDS)

    def stop(self) -> None:
        self._stop_event.set()
        try:
            self._rt.redis.delete(WORKER_STATUS_PREFIX + self._worker_name)
        except Exception:
            log.debug("could not remove worker status", exc_info=True)


def wait_for_redis(connection: Redis, *, interval_seconds: float = 1.0) -> None:
    while True:
        try:
            connection.ping()
            return
        except (RedisConnectionError, RedisTimeoutError):
            time.sleep(interval_seconds)


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
    try:
        for generation in itertools.count():
            # RQ sizes its connection's socket timeout for blocking dequeues; pooled connections
            # made earlier keep the old (short) timeout, so the worker gets a client of its own.
            connection = Redis.from_url(settings.redis_url)
            worker = ParleyWorker(
                list(WORKER_QUEUES),
                name=name if generation == 0 else f"{name}-{generation}",  # the old one may not have unregistered
                connection=connection,
                serializer=JSONSerializer,
            )
            try:
                # No RQ scheduler: it runs in a forked process, and this process must not fork.
                worker.work(burst=burst, with_scheduler=False, logging_level="INFO")
            except (RedisConnectionError, RedisTimeoutError):
                log.warning("lost Redis while finishing a job", exc_info=True)
            # An idle worker told to stop (SIGTERM) only gets a shutdown date: RQ sets _stop_requested
            # when the signal comes during a job. Either way it must not take jobs again.
            if worker._stop_requested or worker._shutdown_requested_date is not None or burst:
                break
            # RQ quits its loop when Redis goes away mid-job; the models stay loaded and the
            # reconciler puts back the job that was in flight, so wait for Redis and go on.
            wait_for_redis(connection)
            log.warning("Redis is back; worker %s takes jobs again", name)
    finally:
        reporter.stop()
        runtime.install(None)
        rt.close()
