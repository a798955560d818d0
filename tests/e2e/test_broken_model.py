"""A worker whose model file is broken: tasks fail with a clear stored error, /ready says why."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from parley_testkit.stack import SAMPLE_KB, Stack, running_stack
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url


@pytest.fixture(scope="module")
def broken_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("broken-stack")
    broken = workdir / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\x00" * 256)
    with running_stack(
        name="broken",
        workdir=workdir,
        redis_url=redis_url(dbs.BROKEN_MODEL),
        worker_env={"LLM_MODEL_PATH": str(broken)},
        ready=False,  # it never becomes ready: that is the point
    ) as stack:
        # With knowledge to answer from, the question needs the model (the grounded pipeline answers
        # an unrelated one with its honest fallback, which needs no model).
        policy = stack.upload(SAMPLE_KB / "delivery-and-returns.md")
        assert stack.wait_document(policy["document_id"])["status"] == "ready"
        yield stack


def test_ready_says_why_and_the_task_fails_clearly(broken_stack: Stack) -> None:
    client = broken_stack.client("admin")  # the checks' details are the operators' (issue #15)

    def reported() -> bool:
        body = client.get("/ready").json()
        return isinstance(body["checks"].get("workers"), list)

    from parley_testkit.servers import wait_until

    wait_until(reported, timeout=120, what="the broken worker's status")
    ready = client.get("/ready")
    assert ready.status_code == 503
    llm = ready.json()["checks"]["workers"][0]["components"]["llm"]
    assert llm["ok"] is False and "could not load model" in llm["detail"] and "broken.gguf" in llm["detail"]

    task = broken_stack.ask("Do you deliver to Abu Dhabi?", wait=60)
    assert task["status"] == "failed"
    assert "could not load model" in task["error"]
    assert task["answer"] is None


def test_missing_model_file(tmp_path: Path, broken_stack: Stack) -> None:
    """The same path for a model file that does not exist at all."""
    assert broken_stack.worker is not None
    broken_stack.worker.stop()
    broken_stack.worker = None
    broken_stack.start_worker(LLM_MODEL_PATH=str(tmp_path / "nowhere.gguf"))
    task = broken_stack.ask("Do you deliver to Abu Dhabi?", chat_id="chat-missing-model", wait=120)
    assert task["status"] == "failed"
    assert "model file not found" in task["error"] and "nowhere.gguf" in task["error"]
