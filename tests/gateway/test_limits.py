"""Rate limits, daily message quota, Idempotency-Key replays and the body cap: the gateway alone on
PostgreSQL and real Redis (no worker: nothing here needs an answer)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import redis

from parley_testkit.stack import Stack, start_stack
from tests.support import redis_dbs as dbs
from tests.support.databases import fresh_postgres_database, redis_url

CHAT_LIMIT = 3
MAX_BODY = 4096
MAX_UPLOAD = 64 * 1024


@pytest.fixture(scope="module")
def limits_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with fresh_postgres_database("parley_limits") as database_url:
        stack = start_stack(
            name="limits",
            workdir=tmp_path_factory.mktemp("limits-stack"),
            database_url=database_url,
            redis_url=redis_url(dbs.LIMITS),
            gateway_overrides={
                "chat_rate_limit_per_minute": CHAT_LIMIT,
                "max_body_bytes": MAX_BODY,
                "max_upload_bytes": MAX_UPLOAD,
            },
        )
        try:
            yield stack
        finally:
            stack.close()


def message(chat_id: str, text: str = "Do you deliver to Sharjah?") -> dict[str, Any]:
    return {"channel": "web", "chat_id": chat_id, "user": {"id": f"user-{chat_id}"}, "text": text}


def partner(stack: Stack, *, settings: dict[str, Any] | None = None, **key_fields: Any) -> tuple[str, httpx.Client]:
    tenant_id: str = stack.new_tenant(settings=settings)["id"]
    key = stack.new_key(tenant_id, "messages:write", "tasks:read", "knowledge:write", **key_fields)
    return tenant_id, stack.client_with_key(key)


def usage(stack: Stack, tenant_id: str) -> dict[str, Any]:
    response = stack.client("admin").get(f"/api/v1/admin/tenants/{tenant_id}/usage")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def test_the_11th_request_of_a_10_per_minute_key_is_429_with_headers(limits_stack: Stack) -> None:
    tenant_id, client = partner(limits_stack, rate_limit_per_minute=10)
    remaining = []
    for _ in range(10):
        response = client.get(f"/api/v1/tasks/{uuid.uuid4().hex}")
        assert response.status_code == 404
        assert response.headers["X-RateLimit-Limit"] == "10"
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
    assert remaining == list(range(9, -1, -1))

    refused = client.get(f"/api/v1/tasks/{uuid.uuid4().hex}")
    assert refused.status_code == 429
    assert "10 requests per minute" in refused.json()["detail"]
    assert refused.headers["X-RateLimit-Limit"] == "10"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    reset = int(refused.headers["X-RateLimit-Reset"])
    assert time.time() < reset <= time.time() + 61
    # POSTs count against the same key; another key of the same tenant has its own window.
    assert client.post("/api/v1/messages", json=message("rl-chat")).status_code == 429
    other = limits_stack.client_with_key(limits_stack.new_key(tenant_id, "tasks:read"))
    assert other.get(f"/api/v1/tasks/{uuid.uuid4().hex}").status_code == 404


def test_keys_without_their_own_limit_use_the_gateway_default(limits_stack: Stack) -> None:
    _, client = partner(limits_stack)
    response = client.get(f"/api/v1/tasks/{uuid.uuid4().hex}")
    assert response.headers["X-RateLimit-Limit"] == str(limits_stack.settings.rate_limit_per_minute)


def test_workers_internal_calls_are_not_rate_limited(limits_stack: Stack) -> None:
    response = limits_stack.client("worker").get(f"/internal/v1/documents/{uuid.uuid4().hex}")
    assert response.status_code == 404
    assert "X-RateLimit-Limit" not in response.headers


def test_per_chat_limit(limits_stack: Stack) -> None:
    _, client = partner(limits_stack)
    for _ in range(CHAT_LIMIT):
        accepted = client.post("/api/v1/messages", json=message("busy-chat"))
        assert accepted.status_code == 202, accepted.text
    refused = client.post("/api/v1/messages", json=message("busy-chat"))
    assert refused.status_code == 429
    detail = refused.json()["detail"]
    assert "'busy-chat'" in detail and f"{CHAT_LIMIT} messages per minute" in detail
    assert refused.headers["X-RateLimit-Limit"] == str(CHAT_LIMIT)
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert int(refused.headers["Retry-After"]) >= 1
    # Another chat of the same tenant and key is not held back.
    assert client.post("/api/v1/messages", json=message("quiet-chat")).status_code == 202


def seconds_to_utc_midnight() -> float:
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return (midnight - now).total_seconds()


def test_message_quota_is_429_with_a_clear_detail(limits_stack: Stack) -> None:
    tenant_id, client = partner(limits_stack, settings={"daily_message_quota": 2})
    first = client.post("/api/v1/messages", json=message("q-1"), headers={"Idempotency-Key": "quota-first"})
    assert first.status_code == 202
    assert client.post("/api/v1/messages", json=message("q-2")).status_code == 202

    refused = client.post("/api/v1/messages", json=message("q-3"))
    assert refused.status_code == 429
    body = refused.json()
    assert body["quota"] == "message" and body["limit"] == 2
    assert "daily message quota" in body["detail"] and "resets at" in body["detail"]
    assert abs(int(refused.headers["Retry-After"]) - seconds_to_utc_midnight()) <= 5
    assert usage(limits_stack, tenant_id)["messages"] == 2

    # A retry of an accepted message is answered, not refused, and not counted again: replayed from
    # Redis, and also from the task's stored key once Redis has lost the idempotency record.
    replay = client.post("/api/v1/messages", json=message("q-1"), headers={"Idempotency-Key": "quota-first"})
    assert replay.status_code == 202 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["task_id"] == first.json()["task_id"]
    redis.Redis.from_url(limits_stack.settings.redis_url).delete(
        *redis.Redis.from_url(limits_stack.settings.redis_url).keys("parley:idempotency:*")
    )
    again = client.post("/api/v1/messages", json=message("q-1"), headers={"Idempotency-Key": "quota-first"})
    assert again.status_code == 202, again.text
    assert "Idempotent-Replayed" not in again.headers
    assert again.json()["task_id"] == first.json()["task_id"]
    assert usage(limits_stack, tenant_id) | {"resets_at": None} == {
        "tenant_id": tenant_id,
        "day": datetime.now(UTC).date().isoformat(),
        "messages": 2,
        "tokens": 0,
        "daily_message_quota": 2,
        "daily_token_quota": None,
        "resets_at": None,
    }


def test_a_zero_token_quota_refuses_messages(limits_stack: Stack) -> None:
    _, client = partner(limits_stack, settings={"daily_token_quota": 0})
    refused = client.post("/api/v1/messages", json=message("t-0"))
    assert refused.status_code == 429
    assert refused.json()["quota"] == "token"
    assert "daily token quota" in refused.json()["detail"]


def test_same_key_and_body_replays_the_first_response(limits_stack: Stack) -> None:
    tenant_id, client = partner(limits_stack)
    first = client.post("/api/v1/messages", json=message("idem"), headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 202
    assert "Idempotent-Replayed" not in first.headers
    # The same JSON with other key order and spacing is the same body.
    same = b'{"text": "Do you deliver to Sharjah?",  "user": {"id": "user-idem"}, "chat_id": "idem", "channel": "web"}'
    replay = client.post(
        "/api/v1/messages", content=same, headers={"Idempotency-Key": "k-1", "Content-Type": "application/json"}
    )
    assert replay.status_code == 202
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert replay.headers["content-type"] == first.headers["content-type"]
    assert usage(limits_stack, tenant_id)["messages"] == 1

    conflict = client.post(
        "/api/v1/messages", json=message("idem", text="Something else"), headers={"Idempotency-Key": "k-1"}
    )
    assert conflict.status_code == 409
    assert "different request body" in conflict.json()["detail"]
    # The key is scoped per tenant: another tenant may use it for its own message.
    _, stranger = partner(limits_stack)
    theirs = stranger.post("/api/v1/messages", json=message("idem", text="Other"), headers={"Idempotency-Key": "k-1"})
    assert theirs.status_code == 202
    assert theirs.json()["task_id"] != first.json()["task_id"]


def test_4xx_responses_are_replayed_too(limits_stack: Stack) -> None:
    _, client = partner(limits_stack)
    bad = {"channel": "web", "chat_id": "c"}
    first = client.post("/api/v1/messages", json=bad, headers={"Idempotency-Key": "bad-1"})
    assert first.status_code == 422
    replay = client.post("/api/v1/messages", json=bad, headers={"Idempotency-Key": "bad-1"})
    assert replay.status_code == 422
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()


def test_five_concurrent_identical_posts_make_one_task(limits_stack: Stack) -> None:
    tenant_id, client = partner(limits_stack)
    key = f"webhook-{uuid.uuid4().hex}"

    def deliver(_: int) -> httpx.Response:
        return client.post("/api/v1/messages", json=message("burst"), headers={"Idempotency-Key": key})

    with ThreadPoolExecutor(5) as pool:
        responses = list(pool.map(deliver, range(5)))
    assert [r.status_code for r in responses] == [202] * 5, [r.text for r in responses]
    assert len({r.json()["task_id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 4
    assert usage(limits_stack, tenant_id)["messages"] == 1


def test_body_over_the_cap_is_413_by_content_length(limits_stack: Stack) -> None:
    _, client = partner(limits_stack)
    response = client.post("/api/v1/messages", json=message("big", text="a" * MAX_BODY))
    assert response.status_code == 413
    assert f"larger than {MAX_BODY} bytes" in response.json()["detail"]


def test_chunked_body_over_the_cap_is_413(limits_stack: Stack) -> None:
    _, client = partner(limits_stack)

    def chunks() -> Iterator[bytes]:
        yield b'{"channel": "web", "chat_id": "big", "user": {"id": "u"}, "text": "'
        for _ in range(MAX_BODY // 512 + 1):
            yield b"a" * 512
        yield b'"}'

    response = client.post("/api/v1/messages", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert f"larger than {MAX_BODY} bytes" in response.json()["detail"]


def test_chunked_body_under_the_cap_is_accepted(limits_stack: Stack) -> None:
    _, client = partner(limits_stack)

    def chunks() -> Iterator[bytes]:
        yield b'{"channel": "web", "chat_id": "small", "user": {"id": "u"}, '
        yield b'"text": "Hello"}'

    response = client.post("/api/v1/messages", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 202, response.text


def test_uploads_keep_their_own_cap_and_replay_by_raw_bytes(limits_stack: Stack) -> None:
    _, client = partner(limits_stack)
    document = ("Delivery takes two days.\n" * 1000).encode()
    assert len(document) > MAX_BODY
    encoded = httpx.Request("POST", limits_stack.url, files={"file": ("faq.md", document)})
    encoded.read()
    headers = {"Idempotency-Key": "upload-1", "Content-Type": encoded.headers["Content-Type"]}
    first = client.post("/api/v1/knowledge/documents", content=encoded.content, headers=headers)
    assert first.status_code == 202, first.text
    replay = client.post("/api/v1/knowledge/documents", content=encoded.content, headers=headers)
    assert replay.status_code == 202
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    # Multipart is compared as raw bytes: the same file under another boundary is another body.
    again = client.post(
        "/api/v1/knowledge/documents", files={"file": ("faq.md", document)}, headers={"Idempotency-Key": "upload-1"}
    )
    assert again.status_code == 409


def test_an_overlong_idempotency_key_is_400(limits_stack: Stack) -> None:
    _, client = partner(limits_stack)
    response = client.post("/api/v1/messages", json=message("long-key"), headers={"Idempotency-Key": "k" * 256})
    assert response.status_code == 400
    assert "longer than 255 characters" in response.json()["detail"]


def test_uploads_over_their_cap_are_413_with_or_without_an_idempotency_key(limits_stack: Stack) -> None:
    _, client = partner(limits_stack)
    huge = b"x" * (MAX_UPLOAD + 128 * 1024)
    plain = client.post("/api/v1/knowledge/documents", files={"file": ("big.md", huge)})
    assert plain.status_code == 413
    keyed = client.post(
        "/api/v1/knowledge/documents", files={"file": ("big.md", huge)}, headers={"Idempotency-Key": "huge-1"}
    )
    assert keyed.status_code == 413
    assert "larger than" in keyed.json()["detail"]
