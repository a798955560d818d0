"""Request ids and redaction in real log output (issue #5): gateway → task → worker → reply event.

Runs on the partner stack (PostgreSQL, Redis, a worker process on the scripted LLM). The gateway
runs in this process: its records go through the handler `python -m gateway` installs, attached to
the root logger here; the worker is a real `python -m ai_worker worker` whose log file is read."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator

import pytest
from asgi_correlation_id import correlation_id

from parley_contract.logging import make_handler
from parley_testkit.stack import Stack

PHONE = "+971 50 123 4567"


def secret_text() -> str:
    return f"Please call me on {PHONE}, my order word is zq{uuid.uuid4().hex[:8]}"


@pytest.fixture
def gateway_log() -> Iterator[io.StringIO]:
    """The gateway's log output, as `python -m gateway` writes it (JSON, LOG_CONTENT=false)."""
    stream = io.StringIO()
    handler = make_handler(json_lines=True, log_content=False, request_id_source=correlation_id.get, stream=stream)
    root, gateway = logging.getLogger(), logging.getLogger("gateway")
    level = gateway.level
    gateway.setLevel(logging.INFO)
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)
    gateway.setLevel(level)


def test_the_request_id_travels_and_the_text_stays_out_of_the_logs(
    partner_stack: Stack, gateway_log: io.StringIO
) -> None:
    tenant = partner_stack.new_tenant()
    key = partner_stack.new_key(tenant["id"], "messages:write", "tasks:read")
    request_id = f"obs-{uuid.uuid4().hex}"
    text = secret_text()
    accepted = partner_stack.client_with_key(key).post(
        "/api/v1/messages",
        json={"channel": "web", "chat_id": "log-chat", "user": {"id": "u1"}, "text": text},
        headers={"X-Request-ID": request_id},
    )
    assert accepted.status_code == 202, accepted.text
    assert accepted.headers["X-Request-ID"] == request_id
    task_id = accepted.json()["task_id"]
    assert partner_stack.wait_task(task_id, key=key)["status"] == "done"

    # Gateway: the accepted-message line carries the request id; the text and the phone are masked.
    records = [json.loads(line) for line in gateway_log.getvalue().splitlines()]
    accepted_lines = [r for r in records if r["message"] == f"accepted a message for task {task_id}"]
    assert len(accepted_lines) == 1
    assert accepted_lines[0]["request_id"] == request_id
    assert accepted_lines[0]["text"] == "[redacted]"
    assert text.split()[-1] not in gateway_log.getvalue() and "123 4567" not in gateway_log.getvalue()

    # The reply event the adapters consume carries it on.
    assert partner_stack.reply_event(task_id)["request_id"] == request_id

    # Worker: its own log file has a line with the request id, and neither the text nor the phone.
    assert partner_stack.worker is not None
    worker_lines = [json.loads(line) for line in partner_stack.worker.log().splitlines() if line.startswith("{")]
    answered = [line for line in worker_lines if line["message"].startswith(f"task {task_id} answered")]
    assert len(answered) == 1 and answered[0]["request_id"] == request_id
    worker_log = partner_stack.worker.log()
    assert text.split()[-1] not in worker_log and "123 4567" not in worker_log


def test_a_request_without_an_id_gets_one_and_a_malformed_one_is_replaced(partner_stack: Stack) -> None:
    client = partner_stack.client("admin")
    made = client.get("/api/v1/admin/tenants")
    assert len(made.headers["X-Request-ID"]) == 32
    replaced = client.get("/api/v1/admin/tenants", headers={"X-Request-ID": "bad id\twith spaces"})
    assert replaced.headers["X-Request-ID"] != "bad id\twith spaces" and len(replaced.headers["X-Request-ID"]) == 32


def test_with_log_content_the_text_is_logged(partner_stack: Stack) -> None:
    stream = io.StringIO()
    handler = make_handler(json_lines=True, log_content=True, request_id_source=correlation_id.get, stream=stream)
    gateway = logging.getLogger("gateway")
    level = gateway.level
    gateway.setLevel(logging.INFO)
    logging.getLogger().addHandler(handler)
    try:
        tenant = partner_stack.new_tenant()
        key = partner_stack.new_key(tenant["id"], "messages:write")
        text = secret_text()
        accepted = partner_stack.client_with_key(key).post(
            "/api/v1/messages", json={"channel": "web", "chat_id": "c", "user": {"id": "u1"}, "text": text}
        )
        assert accepted.status_code == 202
    finally:
        logging.getLogger().removeHandler(handler)
        gateway.setLevel(level)
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert any(r.get("text") == text for r in records)
