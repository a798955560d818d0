"""SIGTERM to `python -m gateway serve` under load: long polls in flight answer at once, posts in
flight complete, the process exits 0, and nothing is half-written (after a restart, retrying every
unanswered post with its Idempotency-Key leaves exactly one task per key)."""

from __future__ import annotations

import signal
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.migrate import upgrade
from parley_testkit.servers import ServiceProcess, free_port, wait_until
from parley_testkit.stack import TOKENS, gateway_settings
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.fault

HEADERS = {"Authorization": f"Bearer {TOKENS['service']}"}


@dataclass
class Gateway:
    directory: Path
    redis_url: str
    port: int
    process: ServiceProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.directory / 'parley.db'}"

    def start(self) -> Gateway:
        self.process = ServiceProcess(
            ["-m", "gateway", "serve", "--port", str(self.port)],
            env={
                "PARLEY_ENV": "test",
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "SERVICE_TOKEN": TOKENS["service"],
                "ADMIN_TOKEN": TOKENS["admin"],
                "WORKER_TOKEN": TOKENS["worker"],
                "RATE_LIMIT_PER_MINUTE": "100000",
                "CHAT_RATE_LIMIT_PER_MINUTE": "100000",
                # No worker: all 150 messages stay in flight.
                "TENANT_MAX_TASKS_IN_FLIGHT": "100000",
                # Shorter than the long polls' wait: a long poll that ignored the drain would be cut.
                "SHUTDOWN_TIMEOUT_SECONDS": "5",
            },
            log_path=self.directory / f"gateway-{uuid.uuid4().hex[:6]}.log",
            cwd=self.directory,
        )
        wait_until(lambda: httpx.get(f"{self.url}/health", timeout=2).status_code == 200, timeout=60, what="gateway")
        return self


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    redis = RedisServer()
    redis.start()
    found = Gateway(directory=tmp_path, redis_url=redis.url, port=free_port())
    upgrade(gateway_settings(database_url=found.database_url, redis_url=redis.url))
    found.start()
    yield found
    if found.process is not None:
        found.process.stop()
    redis.destroy()


def post(url: str, key: str) -> tuple[str, Any]:
    """One message on a fresh connection: ("status", code and body) or ("error", the transport error)."""
    try:
        response = httpx.post(
            f"{url}/api/v1/messages",
            json={"channel": "web", "chat_id": key, "user": {"id": key}, "text": "Do you deliver to Al Ain?"},
            headers={**HEADERS, "Idempotency-Key": key},
            timeout=30,
        )
    except httpx.TransportError as exc:
        return "error", exc
    return "status", (response.status_code, response.json() if response.status_code == 202 else response.text)


def test_sigterm_drains_in_flight_requests_and_loses_nothing(gateway: Gateway) -> None:
    # No worker runs: the task stays queued, so its long polls would wait their full 30 s.
    outcome, (code, accepted) = post(gateway.url, "first")
    assert outcome == "status" and code == 202
    task_id = accepted["task_id"]
    polls: list[httpx.Response | Exception] = []

    def long_poll() -> None:
        try:
            polls.append(httpx.get(f"{gateway.url}/api/v1/tasks/{task_id}?wait=30", headers=HEADERS, timeout=60))
        except httpx.HTTPError as exc:
            polls.append(exc)

    pollers = [threading.Thread(target=long_poll) for _ in range(3)]
    for poller in pollers:
        poller.start()

    keys = [f"burst-{i}-{uuid.uuid4().hex[:6]}" for i in range(150)]
    results: dict[str, tuple[str, Any]] = {}

    def send(key: str) -> None:
        results[key] = post(gateway.url, key)

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(send, key) for key in keys]
        wait_until(lambda: sum(1 for r in list(results.values()) if r[0] == "status") >= 20, timeout=60, what="posts")
        assert gateway.process is not None
        gateway.process.proc.send_signal(signal.SIGTERM)
        for future in futures:
            future.result()
    for poller in pollers:
        poller.join(timeout=60)

    assert gateway.process.proc.wait(timeout=30) == 0, gateway.process.log()[-3000:]
    # The long polls were in flight: each got its answer (the task as it is), none was cut.
    assert len(polls) == 3
    for poll in polls:
        assert isinstance(poll, httpx.Response) and poll.status_code == 200, poll
        assert poll.json()["status"] == "queued"
    answered = {key: value for key, (kind, value) in results.items() if kind == "status"}
    assert all(code == 202 for code, _ in answered.values()), answered  # never a 5xx
    assert len(answered) >= 20
    refused = [key for key, (kind, _) in results.items() if kind == "error"]
    assert refused, "the burst outlived the gateway: SIGTERM came too late to test anything"

    gateway.start()
    client = httpx.Client(base_url=gateway.url, headers=HEADERS, timeout=30)
    # Every 202 is a stored task.
    for _, body in answered.values():
        assert client.get(f"/api/v1/tasks/{body['task_id']}").status_code == 200
    # Every post without an answer is retried with its key: stored once, whether or not it had arrived.
    task_ids = {body["task_id"] for _, body in answered.values()}
    for key in [*refused, *answered]:
        outcome, (code, body) = post(gateway.url, key)
        assert outcome == "status" and code == 202
        if key in answered:
            assert body["task_id"] == answered[key][1]["task_id"]
        task_ids.add(body["task_id"])
    assert len(task_ids) == len(keys)
    client.close()
