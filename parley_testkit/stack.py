"""A whole Parley stack for the tests and the benchmarks: migrated database, gateway, worker process, Redis DB."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis

from gateway.app import create_app
from gateway.migrate import upgrade
from gateway.settings import GatewaySettings
from parley_contract.names import WORKER_STATUS_PREFIX, reply_stream
from parley_testkit.servers import ROOT, ServiceProcess, UvicornThread, wait_until

SAMPLE_KB = ROOT / "sample_kb"
TOKENS = {"service": "test-service-token", "admin": "test-admin-token", "worker": "test-worker-token"}


def gateway_settings(*, database_url: str, redis_url: str, **overrides: Any) -> GatewaySettings:
    # Bursts off unless a test turns them on (tests/gateway/test_ordering.py): other tests post
    # several messages to one chat at once and expect one answer each, without the window's wait.
    overrides.setdefault("burst_window_seconds", 0)
    return GatewaySettings(
        _env_file=None,
        parley_env="test",
        database_url=database_url,
        redis_url=redis_url,
        service_token=TOKENS["service"],
        admin_token=TOKENS["admin"],
        worker_token=TOKENS["worker"],
        **overrides,
    )


def worker_ready(redis_url: str, worker: ServiceProcess) -> bool:
    """Whether this worker process published a status with every component loaded."""
    client = redis.Redis.from_url(redis_url)
    try:
        raw = client.get(WORKER_STATUS_PREFIX + worker.env["WORKER_NAME"])
    finally:
        client.close()
    components = json.loads(raw).get("components", {}) if raw else {}
    return bool(components) and all(c.get("ok") for c in components.values())


def ready_workers(redis_url: str) -> int:
    """How many workers published a status with every component loaded."""
    client = redis.Redis.from_url(redis_url)
    try:
        count = 0
        for key in client.scan_iter(f"{WORKER_STATUS_PREFIX}*"):
            raw = client.get(key)
            status = json.loads(raw) if raw else {}
            components = status.get("components", {})
            if components and all(c.get("ok") for c in components.values()):
                count += 1
        return count
    finally:
        client.close()


@dataclass
class Stack:
    name: str
    workdir: Path
    settings: GatewaySettings
    gateway: UvicornThread
    worker_env: dict[str, str]
    worker: ServiceProcess | None = None
    _clients: list[httpx.Client] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.gateway.url

    def client(self, token: str | None = "service") -> httpx.Client:
        headers = {"Authorization": f"Bearer {TOKENS[token]}"} if token else {}
        client = httpx.Client(base_url=self.url, headers=headers, timeout=60)
        self._clients.append(client)
        return client

    def reply_event(self, task_id: str, *, channel: str = "web") -> dict[str, Any]:
        """The reply event the gateway published for the task on its channel's stream."""
        connection = redis.Redis.from_url(self.settings.redis_url, decode_responses=True)
        try:
            entries: Any = connection.xrevrange(reply_stream(channel), count=500)
            for _, fields in entries:
                if fields["task_id"] == task_id:
                    event: dict[str, Any] = json.loads(fields["event"])
                    return event
        finally:
            connection.close()
        raise AssertionError(f"no reply event for task {task_id} on {channel}")

    def client_with_key(self, key: str) -> httpx.Client:
        client = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=60)
        self._clients.append(client)
        return client

    def new_tenant(self, *, settings: dict[str, Any] | None = None) -> dict[str, Any]:
        """A new tenant made through the admin API (its id is unique); the response, with its callback secret."""
        tenant_id = f"t-{uuid.uuid4().hex[:12]}"
        response = self.client("admin").post(
            "/api/v1/admin/tenants", json={"id": tenant_id, "name": f"Tenant {tenant_id}", "settings": settings or {}}
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def new_key(self, tenant_id: str, *scopes: str, **fields: Any) -> str:
        """A new API key of the tenant with these scopes (and e.g. rate_limit_per_minute, callback_url)."""
        response = self.client("admin").post(
            f"/api/v1/admin/tenants/{tenant_id}/keys",
            json={"name": "test key", "scopes": list(scopes), **fields},
        )
        assert response.status_code == 201, response.text
        key: str = response.json()["key"]
        return key

    @contextmanager
    def setting(self, name: str, value: Any) -> Iterator[None]:
        """One of the running gateway's settings changed for the block, then put back. Only for the
        settings the gateway reads at each request (e.g. `burst_window_seconds`, read at each claim):
        others are read once at start."""
        before = getattr(self.settings, name)
        setattr(self.settings, name, value)
        try:
            yield
        finally:
            setattr(self.settings, name, before)

    def cli_env(self) -> dict[str, str]:
        return dict(self.worker_env)

    def start_worker(self, **env: str) -> ServiceProcess:
        assert self.worker is None or not self.worker.alive(), "a worker is already running"
        self.worker = ServiceProcess(
            ["-m", "ai_worker", "worker"],
            env={"WORKER_NAME": f"test-{self.name}-{time.time_ns()}", **self.worker_env, **env},
            log_path=self.workdir / f"worker-{int(time.time() * 1000)}.log",
            cwd=self.workdir,
        )
        return self.worker

    def extra_worker(self, label: str) -> ServiceProcess:
        """Another worker process beside `worker` (the caller stops it), with its own embedded vector store
        (the embedded store admits one process)."""
        return ServiceProcess(
            ["-m", "ai_worker", "worker"],
            env={
                **self.worker_env,
                "WORKER_NAME": f"test-{self.name}-{label}-{time.time_ns()}",
                "CHROMA_PATH": str(self.workdir / f"chroma-{label}"),
            },
            log_path=self.workdir / f"worker-{label}-{int(time.time() * 1000)}.log",
            cwd=self.workdir,
        )

    def wait_ready(self, timeout: float = 180) -> None:
        def ready() -> bool:
            assert self.worker is not None and self.worker.alive(), self.worker.log() if self.worker else "no worker"
            return httpx.get(f"{self.url}/ready", timeout=5).status_code == 200

        wait_until(ready, timeout=timeout, what=f"{self.name} stack ready")

    def ask(self, text: str, *, key: str | None = None, chat_id: str = "chat-1", wait: float = 30) -> dict[str, Any]:
        """Post a message and long-poll its task until it is finished (or `wait` runs out)."""
        client = self.client()
        headers = {"Idempotency-Key": key} if key else {}
        accepted = client.post(
            "/api/v1/messages",
            json={"channel": "web", "chat_id": chat_id, "user": {"id": f"user-{chat_id}"}, "text": text},
            headers=headers,
        )
        assert accepted.status_code == 202, accepted.text
        return self.wait_task(accepted.json()["task_id"], wait=wait)

    def wait_task(self, task_id: str, *, wait: float = 60, key: str | None = None) -> dict[str, Any]:
        """The task once finished (or as it is after `wait` s), read with `key` (default: the service token)."""
        client = self.client() if key is None else self.client_with_key(key)
        deadline = time.monotonic() + wait
        while True:
            task: dict[str, Any] = client.get(f"/api/v1/tasks/{task_id}", params={"wait": 30}).json()
            if task["status"] in ("done", "failed") or time.monotonic() > deadline:
                return task

    def upload(self, path: Path, *, name: str | None = None) -> dict[str, Any]:
        response = self.client("admin").post(
            "/api/v1/knowledge/documents", files={"file": (name or path.name, path.read_bytes())}
        )
        assert response.status_code == 202, response.text
        result: dict[str, Any] = response.json()
        return result

    def wait_document(self, document_id: str, *, statuses: tuple[str, ...] = ("ready", "failed")) -> dict[str, Any]:
        client = self.client("admin")
        found: dict[str, Any] = {}

        def settled() -> bool:
            nonlocal found
            response = client.get(f"/api/v1/knowledge/documents/{document_id}")
            found = response.json() if response.status_code == 200 else {"status": "gone"}
            return found["status"] in statuses

        wait_until(settled, timeout=300, what=f"document {document_id} in {statuses}")
        return found

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        for client in self._clients:
            client.close()
        self.gateway.stop()


def start_stack(
    *,
    name: str,
    workdir: Path,
    database_url: str,
    redis_url: str,
    worker_env: dict[str, str] | None = None,
    gateway_overrides: dict[str, Any] | None = None,
) -> Stack:
    """Migrate, flush the Redis database and start the gateway; the caller starts the worker."""
    workdir.mkdir(parents=True, exist_ok=True)
    redis.Redis.from_url(redis_url).flushdb()
    settings = gateway_settings(database_url=database_url, redis_url=redis_url, **(gateway_overrides or {}))
    upgrade(settings)
    gateway = UvicornThread(create_app(settings)).start()
    env = {
        "PARLEY_ENV": "test",
        "REDIS_URL": redis_url,
        "GATEWAY_URL": gateway.url,
        "WORKER_TOKEN": TOKENS["worker"],
        "CHROMA_PATH": str(workdir / "chroma"),
        "LLM_THREADS": "2",
        # The channel, streaming and guard tests exercise a model writing the answer; the answer
        # benchmark and its CI slice (bench/answers.py) run the product's default, `auto`.
        "ANSWER_GENERATION": "model",
        **(worker_env or {}),
    }
    return Stack(name=name, workdir=workdir, settings=settings, gateway=gateway, worker_env=env)


@contextmanager
def running_stack(
    *,
    name: str,
    workdir: Path,
    redis_url: str,
    database_url: str | None = None,
    worker_env: dict[str, str] | None = None,
    gateway_overrides: dict[str, Any] | None = None,
    before_worker: Callable[[Stack], None] | None = None,
    ready: bool = True,
) -> Iterator[Stack]:
    """A started stack (SQLite in `workdir` unless `database_url` says otherwise) with one worker."""
    stack = start_stack(
        name=name,
        workdir=workdir,
        database_url=database_url or f"sqlite:///{workdir / 'parley.db'}",
        redis_url=redis_url,
        worker_env=worker_env,
        gateway_overrides=gateway_overrides,
    )
    try:
        if before_worker is not None:
            before_worker(stack)
        stack.start_worker()
        if ready:
            stack.wait_ready()
        yield stack
    finally:
        stack.close()
