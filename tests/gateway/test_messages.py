"""POST /api/v1/messages, tasks and transcripts, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from parley_testkit.stack import TOKENS, Stack


def message(text: str = "Hello there", chat_id: str = "chat-x") -> dict[str, object]:
    return {"channel": "web", "chat_id": chat_id, "user": {"id": "u-1", "name": "Amal", "language": "en"}, "text": text}


def test_missing_or_wrong_token_is_401(stack: Stack) -> None:
    anonymous = stack.client(token=None)
    response = anonymous.post("/api/v1/messages", json=message())
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    wrong = anonymous.post("/api/v1/messages", json=message(), headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert "invalid" in wrong.json()["detail"]


def test_worker_token_cannot_post_messages(stack: Stack) -> None:
    response = stack.client(token="worker").post("/api/v1/messages", json=message())
    assert response.status_code == 403
    assert "messages:write" in response.json()["detail"]


def test_malformed_json_is_422(stack: Stack) -> None:
    response = stack.client().post(
        "/api/v1/messages", content=b'{"channel": "web", "chat_id": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_missing_and_unknown_fields_are_422(stack: Stack) -> None:
    client = stack.client()
    missing = client.post("/api/v1/messages", json={"channel": "web", "chat_id": "c"})
    assert missing.status_code == 422
    assert {tuple(e["loc"]) for e in missing.json()["detail"]} >= {("body", "user"), ("body", "text")}
    unknown = client.post("/api/v1/messages", json={**message(), "colour": "red"})
    assert unknown.status_code == 422
    empty = client.post("/api/v1/messages", json=message(text=""))
    assert empty.status_code == 422


def test_text_over_the_limit_is_422(stack: Stack) -> None:
    limit = stack.settings.max_text_chars
    response = stack.client().post("/api/v1/messages", json=message(text="a" * (limit + 1)))
    assert response.status_code == 422
    assert f"the limit is {limit}" in response.json()["detail"][0]["msg"]


def test_same_idempotency_key_returns_the_same_task(stack: Stack) -> None:
    client = stack.client()
    key = f"test:{uuid.uuid4()}"
    first = client.post("/api/v1/messages", json=message(chat_id=key), headers={"Idempotency-Key": key})
    again = client.post("/api/v1/messages", json=message(chat_id=key), headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 202
    assert first.json()["task_id"] == again.json()["task_id"]
    transcript = client.get(f"/api/v1/conversations/{first.json()['conversation_id']}/messages").json()
    assert [m["role"] for m in transcript["messages"]].count("user") == 1


def test_concurrent_duplicates_make_one_task(stack: Stack) -> None:
    key = f"test:{uuid.uuid4()}"

    def post(_: int) -> httpx.Response:
        with httpx.Client(base_url=stack.url, headers={"Authorization": f"Bearer {TOKENS['service']}"}) as client:
            return client.post("/api/v1/messages", json=message(chat_id=key), headers={"Idempotency-Key": key})

    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(post, range(5)))
    assert {r.status_code for r in responses} == {202}
    assert len({r.json()["task_id"] for r in responses}) == 1


def test_unknown_task_and_conversation_are_404(stack: Stack) -> None:
    client = stack.client()
    assert client.get("/api/v1/tasks/does-not-exist").status_code == 404
    assert client.get("/api/v1/conversations/does-not-exist/messages").status_code == 404


def test_long_poll_wait_is_bounded(stack: Stack) -> None:
    response = stack.client().get("/api/v1/tasks/x", params={"wait": 31})
    assert response.status_code == 422


def test_health_and_ready(stack: Stack) -> None:
    client = stack.client(token=None)
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json() == {"ready": True}
    ready = stack.client("admin").get("/ready")  # the checks' details are the operators' (issue #15)
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"] == "ok"
    assert all(c["ok"] for c in body["checks"]["workers"][0]["components"].values())


def test_openapi_is_served(stack: Stack) -> None:
    schema = stack.client(token=None).get("/openapi.json").json()
    assert "/api/v1/messages" in schema["paths"]
    assert not any(path.startswith("/internal") for path in schema["paths"])
