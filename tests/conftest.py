from __future__ import annotations

from collections.abc import Iterator

import pytest

from parley_testkit.fake_llm import FakeLLM
from parley_testkit.servers import free_port
from parley_testkit.stack import SAMPLE_KB, Stack, running_stack
from tests.support import redis_dbs as dbs
from tests.support.databases import fresh_postgres_database, redis_url
from tests.support.gateways import ingest_sample_with_cli
from tests.support.redis_server import RedisServer


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session."""
    with fresh_postgres_database() as url:
        yield url


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
