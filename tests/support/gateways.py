"""Stacks the tests start for themselves: a gateway alone, and the sample knowledge base ingested by the CLI."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from parley_testkit.servers import ROOT
from parley_testkit.stack import SAMPLE_KB, Stack, start_stack
from tests.support.databases import fresh_postgres_database, redis_url


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
