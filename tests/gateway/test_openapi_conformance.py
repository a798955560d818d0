"""schemathesis against the gateway's own OpenAPI document: no 5xx, every response as documented.

Bounded for CI: each phase once with a few examples per operation (the coverage phase's ~1,850
cases are most of the run), against a gateway without a worker (PostgreSQL and Redis real); at
full depth (`PARLEY_TEST_DEPTH=full`, run by `python -m bench.fulldepth`) fuzzing repeats for 90 s
as `make test` did before. Operations that need a worker to answer (/ready, knowledge search) are left out:
without one they answer 503/504 by design, which their own tests cover. Every other JSON body
carries a lone UTF-16 surrogate (tests/gateway/schemathesis_surrogates.py, issue #15 finding 7).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley_testkit.stack import TOKENS, Stack, start_stack
from tests.support import redis_dbs as dbs
from tests.support.databases import fresh_postgres_database, redis_url
from tests.support.depth import sized

#: Per operation and phase. At full depth the run also repeats fuzzing until MAX_TIME_SECONDS is spent.
MAX_EXAMPLES = 10
MAX_TIME_SECONDS = sized(ci=0, full=90)
#: Operations that need a worker to answer (see above).
EXCLUDED = ("/ready", "/api/v1/knowledge/search")
#: The operations in two halves, one schemathesis process each, run side by side: one at a time the
#: gateway and schemathesis leave the CPUs mostly idle. (schemathesis's own `--workers` are threads,
#: and hypothesis's lambda descriptions are not thread-safe on CPython 3.11: `SystemError: AST
#: constructor recursion depth mismatch` in a run with four.)
_TENANT_SCOPED = r"^/api/v1/admin/tenants/\{tenant_id\}/"
PARTS = (("--include-path-regex", _TENANT_SCOPED), ("--exclude-path-regex", _TENANT_SCOPED))
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


def operations(document: dict[str, Any]) -> set[str]:
    methods = {"get", "put", "post", "delete", "patch", "head", "options"}
    return {f"{m.upper()} {path}" for path, item in document["paths"].items() for m in item if m in methods}


def test_gateway_conforms_to_its_openapi_document(conformance_stack: Stack, tmp_path: Path) -> None:
    """schemathesis's own command line (its pytest plugin does not run on pytest 9), bounded in examples
    (and, at full depth, run again and again for the time budget)."""
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{conformance_stack.url}/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--header",
        f"Authorization: Bearer {TOKENS['admin']}",
        *(arg for path in EXCLUDED for arg in ("--exclude-path", path)),
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "20261122",
        *(["--max-time", str(MAX_TIME_SECONDS)] if MAX_TIME_SECONDS else []),
        "--request-timeout",
        "30",
        "--workers",
        "1",
        "--no-color",
    ]
    poisoned = tmp_path / "surrogates.log"
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS), "SURROGATE_LOG": str(poisoned)}
    runs = []
    for n, part in enumerate(PARTS):
        workdir = tmp_path / f"part-{n}"
        workdir.mkdir()
        out = (workdir / "report.txt").open("w+")
        runs.append(
            (subprocess.Popen([*command, *part], stdout=out, stderr=subprocess.STDOUT, cwd=workdir, env=env), out)
        )
    selected = tested = 0
    for process, out in runs:
        process.wait(timeout=420)
        out.seek(0)
        report = out.read()
        out.close()
        assert process.returncode == 0, report[-20000:]
        assert "passed" in report.lower(), report[-5000:]
        # Every phase ran to its end for every operation of the part.
        assert re.search(r"✅\s+Coverage", report) and re.search(r"✅\s+Fuzzing", report), report[-5000:]
        found = re.search(r"Selected: (\d+)/\d+\s+Tested: (\d+)", report)
        assert found is not None, report[-5000:]
        selected += int(found[1])
        tested += int(found[2])
    # The parts together are every operation of the document but the excluded ones, each tested once.
    document = httpx.get(f"{conformance_stack.url}/openapi.json").json()
    expected = {op for op in operations(document) if op.split(" ", 1)[1] not in EXCLUDED}
    assert selected == tested == len(expected), (selected, tested, len(expected))
    # The lone surrogates were sent, to the customer-message routes among others.
    sent = set(poisoned.read_text().splitlines())
    assert {"POST /api/v1/messages", "POST /v1/chat/completions"} <= sent, sorted(sent)
