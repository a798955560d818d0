"""The claim's lease through the worker API: only the attempt that holds a task may renew or finish it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley_testkit.servers import wait_until
from parley_testkit.stack import TOKENS, Stack, start_stack
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url

LEASE_SECONDS = 3


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """A gateway and no worker: the test plays the workers through the internal API."""
    stack = start_stack(
        name="lease",
        workdir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'parley.db'}",
        redis_url=redis_url(dbs.TASK_LEASE),
        gateway_overrides={"task_lease_seconds": LEASE_SECONDS, "reconcile_interval_seconds": 3600},
    )
    try:
        yield stack
    finally:
        stack.close()


@pytest.fixture
def worker_api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=f"{stack.url}/internal/v1/", headers={"Authorization": f"Bearer {TOKENS['worker']}"}, timeout=30
    ) as client:
        yield client


def completion(answer: str, attempt: int) -> dict[str, Any]:
    return {"answer": answer, "sources": [], "timings": {}, "attempt": attempt}


def test_only_the_current_claim_may_renew_or_finish(stack: Stack, worker_api: httpx.Client) -> None:
    accepted = stack.client().post(
        "/api/v1/messages", json={"channel": "web", "chat_id": "lease", "user": {"id": "u"}, "text": "Open today?"}
    )
    assert accepted.status_code == 202, accepted.text
    task_id = accepted.json()["task_id"]

    first = worker_api.post(f"tasks/{task_id}/claim")
    assert first.status_code == 200, first.text
    assert (first.json()["attempt"], first.json()["lease_seconds"]) == (1, LEASE_SECONDS)
    assert worker_api.post(f"tasks/{task_id}/claim").status_code == 409  # held by attempt 1
    assert worker_api.post(f"tasks/{task_id}/lease", json={"attempt": 1}).status_code == 204

    # Attempt 1 stops renewing (its worker froze or died): the task is claimable again once its lease ran out.
    second: dict[str, Any] = {}

    def claimed_again() -> bool:
        nonlocal second
        response = worker_api.post(f"tasks/{task_id}/claim")
        second = response.json() if response.status_code == 200 else {}
        return bool(second)

    wait_until(claimed_again, timeout=30, interval=0.5, what="the task claimed again after its lease")
    assert second["attempt"] == 2

    # The stale owner can neither keep the task nor finish it.
    assert worker_api.post(f"tasks/{task_id}/lease", json={"attempt": 1}).status_code == 409
    assert worker_api.post(f"tasks/{task_id}/complete", json=completion("Stale answer.", 1)).json() == {"stored": False}
    assert worker_api.post(f"tasks/{task_id}/fail", json={"error": "stale", "attempt": 1}).json() == {"stored": False}
    assert worker_api.post(f"tasks/{task_id}/lease", json={"attempt": 2}).status_code == 204

    assert worker_api.post(f"tasks/{task_id}/complete", json=completion("Yes, until 9 pm.", 2)).json() == {
        "stored": True
    }
    # Finished: nobody holds it any more, a repeated completion stores nothing.
    assert worker_api.post(f"tasks/{task_id}/lease", json={"attempt": 2}).status_code == 409
    assert worker_api.post(f"tasks/{task_id}/complete", json=completion("Again.", 2)).json() == {"stored": False}

    task = stack.client().get(f"/api/v1/tasks/{task_id}").json()
    assert (task["status"], task["answer"]) == ("done", "Yes, until 9 pm.")
    transcript = stack.client().get(f"/api/v1/conversations/{task['conversation_id']}/messages").json()
    assert [m["text"] for m in transcript["messages"] if m["role"] == "assistant"] == ["Yes, until 9 pm."]
    assert stack.reply_event(task_id)["answer"] == "Yes, until 9 pm."
