"""schemathesis against the gateway's own OpenAPI document: no 5xx, every response as documented.

Bounded for CI: a few examples per operation, against a gateway without a worker (PostgreSQL and
Redis real). Operations that need a worker to answer (/ready, knowledge search) are left out:
without one they answer 503/504 by design, which their own tests cover. Every other JSON body
carries a lone UTF-16 surrogate (tests/gateway/schemathesis_surrogates.py, issue #15 finding 7).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from parley_testkit.stack import TOKENS, Stack, start_stack
from tests.support import redis_dbs as dbs
from tests.support.databases import fresh_postgres_database, redis_url

HOOKS = Path(__file__).with_name("schemathesis_surrogates.py")
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)


@pytest.fixture(scope="module")
def conformance_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with fresh_postgres_database("parley_schema") as database_url:
        stack = start_stack(
            name="schema",
            workdir=Path(tmp_path_factory.mktemp("schema-stack")),
            database_url=database_url,
            redis_url=redis_url(dbs.CONFORMANCE),
            gateway_overrides={
                "search_timeout_seconds": 1.0,
                "rate_limit_per_minute": 1_000_000,
                "chat_rate_limit_per_minute": 1_000_000,
            },
        )
        try:
            yield stack
        finally:
            stack.close()


def test_gateway_conforms_to_its_openapi_document(conformance_stack: Stack, tmp_path: Path) -> None:
    """schemathesis's own command line (its pytest plugin does not run on pytest 9), bounded in examples and time."""
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{conformance_stack.url}/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--header",
        f"Authorization: Bearer {TOKENS['admin']}",
        "--exclude-path",
        "/ready",
        "--exclude-path",
        "/api/v1/knowledge/search",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        "5",
        "--seed",
        "20261122",
        "--max-time",
        "90",
        "--request-timeout",
        "30",
        "--workers",
        "1",
        "--no-color",
    ]
    poisoned = tmp_path / "surrogates.log"
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS), "SURROGATE_LOG": str(poisoned)}
    run = subprocess.run(command, capture_output=True, text=True, timeout=420, cwd=tmp_path, env=env)
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-20000:]
    assert "passed" in report.lower(), report[-5000:]
    # The lone surrogates were sent, to the customer-message routes among others.
    sent = set(poisoned.read_text().splitlines())
    assert {"POST /api/v1/messages", "POST /v1/chat/completions"} <= sent, sorted(sent)
