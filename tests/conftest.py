from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import pytest

from tests.support import redis_dbs as dbs
from tests.support.fake_llm import FakeLLM
from tests.support.redis_server import RedisServer
from tests.support.servers import ROOT, free_port
from tests.support.stack import SAMPLE_KB, Stack, running_stack, start_stack

REDIS_BASE = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def redis_url(db: int) -> str:
    return f"{REDIS_BASE}/{db}"


@contextmanager
def fresh_postgres_database(prefix: str = "parley_test") -> Iterator[str]:
    """A new PostgreSQL database, dropped afterwards; fails (never skips) in CI when PostgreSQL is absent."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        message = f"PostgreSQL is not available at {POSTGRES_ADMIN_URL}: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def gateway_only(*, name: str, workdir: Path, database: str, redis_db: int) -> Iterator[Stack]:
    """A migrated gateway with no worker, on SQLite in `workdir` or on a fresh PostgreSQL database
    (`database` is "sqlite" or "postgres"), closed afterwards."""
    with contextlib.ExitStack() as resources:
        if database == "sqlite":
            database_url = f"sqlite:///{workdir / 'parley.db'}"
        else:
            database_url = resources.enter_context(fresh_postgres_database(f"parley_{name.replace('-', '_')}"))
        stack = start_stack(name=name, workdir=workdir, database_url=database_url, redis_url=redis_url(redis_db))
        resources.callback(stack.close)
        yield stack


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session."""
    with fresh_postgres_database() as url:
        yield url


def run_cli_ingest(stack: Stack, *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ai_worker", "ingest", *map(str, paths)],
        env={**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", **stack.cli_env()},
        cwd=stack.workdir,
        capture_output=True,
        text=True,
        timeout=600,
    )


def ingest_sample_with_cli(stack: Stack) -> None:
    ingested = run_cli_ingest(stack, SAMPLE_KB)
    assert ingested.returncode == 0, ingested.stdout + ingested.stderr


@pytest.fixture(scope="session")
def sqlite_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """SQLite gateway; the sample knowledge base loaded by the CLI before the worker starts (as `make run`)."""
    with running_stack(
        name="sqlite",
        workdir=tmp_path_factory.mktemp("sqlite-stack"),
        redis_url=redis_url(dbs.SQLITE_STACK),
        before_worker=ingest_sample_with_cli,
    ) as stack:
        yield stack


@pytest.fixture(scope="session")
def postgres_stack(tmp_path_factory: pytest.TempPathFactory, postgres_url: str) -> Iterator[Stack]:
    """PostgreSQL gateway; the sample knowledge base uploaded through the API and ingested by the worker."""
    with running_stack(
        name="postgres",
        workdir=tmp_path_factory.mktemp("postgres-stack"),
        database_url=postgres_url,
        redis_url=redis_url(dbs.POSTGRES_STACK),
    ) as stack:
        uploaded = [
            stack.upload(path) for path in sorted(SAMPLE_KB.iterdir()) if path.suffix in (".md", ".csv", ".pdf")
        ]
        for accepted in uploaded:
            assert stack.wait_document(accepted["document_id"])["status"] == "ready"
        yield stack


@pytest.fixture(params=["sqlite", "postgres"])
def stack(request: pytest.FixtureRequest) -> Stack:
    """The same tests on both databases."""
    found: Stack = request.getfixturevalue(f"{request.param}_stack")
    return found


@pytest.fixture(scope="session")
def partner_llm() -> Iterator[FakeLLM]:
    """The hosted LLM of the partner stack: a scripted OpenAI-compatible server (answers in milliseconds)."""
    fake = FakeLLM(default_answer="We deliver to all seven emirates.").start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def partner_stack(tmp_path_factory: pytest.TempPathFactory, partner_llm: FakeLLM) -> Iterator[Stack]:
    """The partner API's stack (issue #5): PostgreSQL of its own, Redis database 10, a worker on the
    scripted LLM, callbacks retried quickly. Tests make their own tenants and keys on it."""
    with (
        fresh_postgres_database("parley_partner") as database_url,
        running_stack(
            name="partner",
            workdir=tmp_path_factory.mktemp("partner-stack"),
            database_url=database_url,
            redis_url=redis_url(dbs.PARTNER_STACK),
            # METRICS_PORT: the worker serves /metrics there (tests/ai_worker/test_metrics.py scrapes it).
            worker_env={**partner_llm.worker_env, "METRICS_PORT": str(free_port())},
            # The callback receivers are on loopback (tests/support/callback_receiver.py).
            gateway_overrides={
                "callback_backoff_seconds": 0.3,
                "callback_poll_interval_seconds": 0.1,
                "callback_allow_private_urls": True,
            },
        ) as stack,
    ):
        yield stack


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A throwaway redis-server of the test's own, for tests that stop or kill it."""
    server = RedisServer()
    server.start()
    yield server
    server.destroy()
