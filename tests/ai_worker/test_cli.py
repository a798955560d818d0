"""`python -m ai_worker ingest` (the sqlite stack was loaded with it before its worker started)."""

from __future__ import annotations

from parley_testkit.stack import SAMPLE_KB, Stack
from tests.support.gateways import run_cli_ingest


def test_cli_refuses_while_a_worker_owns_the_embedded_store(sqlite_stack: Stack) -> None:
    result = run_cli_ingest(sqlite_stack, SAMPLE_KB / "faq.md")
    assert result.returncode == 2
    assert "owns the embedded vector store" in result.stderr
