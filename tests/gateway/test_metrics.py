"""The gateway's /metrics (issue #5): requests by route template and status, latency, Parley counters.

Runs on the partner stack: PostgreSQL, Redis and a worker on the scripted LLM."""

from __future__ import annotations

import httpx

from parley_testkit.stack import Stack
from tests.support.metrics import scrape

ROUTE = {"handler": "/api/v1/messages", "method": "POST"}


def post_message(stack: Stack, key: str, text: str) -> httpx.Response:
    return stack.client_with_key(key).post(
        "/api/v1/messages", json={"channel": "web", "chat_id": "metrics-chat", "user": {"id": "u1"}, "text": text}
    )


def test_metrics_move_with_traffic(partner_stack: Stack) -> None:
    tenant = partner_stack.new_tenant()
    key = partner_stack.new_key(tenant["id"], "messages:write", "tasks:read")
    metrics_url = f"{partner_stack.url}/metrics"
    before = scrape(metrics_url)

    accepted = post_message(partner_stack, key, "Do you deliver to Ajman?")
    assert accepted.status_code == 202, accepted.text
    refused = partner_stack.client_with_key(key).post("/api/v1/messages", json={"channel": "web"})
    assert refused.status_code == 422
    task = partner_stack.wait_task(accepted.json()["task_id"], key=key)
    assert task["status"] == "done"

    after = scrape(metrics_url)
    assert (
        after.value("http_requests_total", **ROUTE, status="202")
        == before.value("http_requests_total", **ROUTE, status="202") + 1
    )
    assert (
        after.value("http_requests_total", **ROUTE, status="422")
        == before.value("http_requests_total", **ROUTE, status="422") + 1
    )
    # The latency histogram is labelled by route template, not by the concrete path.
    assert after.value("http_request_duration_seconds_count", **ROUTE) == (
        before.value("http_request_duration_seconds_count", **ROUTE) + 2
    )
    assert after.value("http_request_duration_seconds_bucket", **ROUTE, le="+Inf") == (
        before.value("http_request_duration_seconds_bucket", **ROUTE, le="+Inf") + 2
    )
    task_route = {"handler": "/api/v1/tasks/{task_id}", "method": "GET", "status": "200"}
    assert after.value("http_requests_total", **task_route) > before.value("http_requests_total", **task_route)
    assert after.value("parley_messages_accepted_total", channel="web") == (
        before.value("parley_messages_accepted_total", channel="web") + 1
    )
    assert after.value("parley_tasks_finished_total", status="done") >= (
        before.value("parley_tasks_finished_total", status="done") + 1
    )
    # /metrics does not count its own scrapes.
    assert not any(labels and ("handler", "/metrics") in labels for _, labels in after.samples)


def test_a_duplicate_message_is_not_counted_as_accepted(partner_stack: Stack) -> None:
    tenant = partner_stack.new_tenant()
    key = partner_stack.new_key(tenant["id"], "messages:write")
    client = partner_stack.client_with_key(key)
    body = {"channel": "web", "chat_id": "dup-chat", "user": {"id": "u1"}, "text": "Hello"}
    first = client.post("/api/v1/messages", json=body, headers={"Idempotency-Key": "metrics-dup-1"})
    assert first.status_code == 202
    before = scrape(f"{partner_stack.url}/metrics")
    again = client.post("/api/v1/messages", json=body, headers={"Idempotency-Key": "metrics-dup-1"})
    assert again.status_code == 202 and again.json()["task_id"] == first.json()["task_id"]
    after = scrape(f"{partner_stack.url}/metrics")
    assert after.value("parley_messages_accepted_total", channel="web") == before.value(
        "parley_messages_accepted_total", channel="web"
    )
    assert after.value("http_requests_total", **ROUTE, status="202") == (
        before.value("http_requests_total", **ROUTE, status="202") + 1
    )


def test_metrics_is_open_to_the_scraper_and_not_in_the_api_document(partner_stack: Stack) -> None:
    response = httpx.get(f"{partner_stack.url}/metrics", timeout=10)  # no token
    assert response.status_code == 200
    assert "http_requests_total" in response.text
    schema = httpx.get(f"{partner_stack.url}/openapi.json", timeout=10).json()
    assert "/metrics" not in schema["paths"]
