"""Feedback on answers, conversation reset and channel settings (added for the Telegram channel)."""

from __future__ import annotations

import uuid

from parley_testkit.stack import Stack


def test_feedback_by_task_id_or_message_id_replaces_the_rating(stack: Stack) -> None:
    chat = f"fb-{uuid.uuid4().hex[:8]}"
    task = stack.ask("Do you deliver to Abu Dhabi?", chat_id=chat, wait=120)
    assert task["status"] == "done", task
    client = stack.client()
    by_task = client.post(f"/api/v1/messages/{task['task_id']}/feedback", json={"rating": "up"})
    assert by_task.status_code == 200, by_task.text
    stored = by_task.json()
    assert stored["task_id"] == task["task_id"] and stored["rating"] == "up"
    transcript = client.get(f"/api/v1/conversations/{task['conversation_id']}/messages").json()
    [answer] = [m for m in transcript["messages"] if m["role"] == "assistant"]
    assert stored["message_id"] == answer["id"]

    by_message = client.post(
        f"/api/v1/messages/{answer['id']}/feedback", json={"rating": "down", "comment": "too short"}
    )
    assert by_message.status_code == 200
    assert by_message.json() | {"created_at": None} == {
        "message_id": answer["id"],
        "task_id": task["task_id"],
        "rating": "down",
        "comment": "too short",
        "created_at": None,
    }


def test_feedback_is_refused_for_unknown_ids_bad_ratings_and_workers(stack: Stack) -> None:
    client = stack.client()
    assert client.post("/api/v1/messages/nope/feedback", json={"rating": "up"}).status_code == 404
    assert client.post("/api/v1/messages/nope/feedback", json={"rating": "meh"}).status_code == 422
    worker = stack.client(token="worker").post("/api/v1/messages/nope/feedback", json={"rating": "up"})
    assert worker.status_code == 403


def test_reset_closes_the_open_conversation_and_the_next_message_opens_a_new_one(stack: Stack) -> None:
    client = stack.client()
    chat = f"reset-{uuid.uuid4().hex[:8]}"

    def post(text: str) -> str:
        body = {"channel": "web", "chat_id": chat, "user": {"id": f"u-{chat}"}, "text": text}
        accepted = client.post("/api/v1/messages", json=body)
        assert accepted.status_code == 202, accepted.text
        conversation_id: str = accepted.json()["conversation_id"]
        return conversation_id

    first = post("Hello")
    assert post("Hello again") == first
    reset = client.post("/api/v1/conversations/reset", json={"channel": "web", "chat_id": chat})
    assert reset.status_code == 200 and reset.json() == {"closed": 1}
    assert post("New topic") != first
    nothing_open = client.post("/api/v1/conversations/reset", json={"channel": "web", "chat_id": f"{chat}-none"})
    assert nothing_open.json() == {"closed": 0}
    assert client.post("/api/v1/conversations/reset", json={"channel": "Bad!", "chat_id": chat}).status_code == 422


def test_channel_settings_show_the_business_name_and_greeting(stack: Stack) -> None:
    settings = stack.client().get("/api/v1/channel-settings")
    assert settings.status_code == 200
    assert set(settings.json()) == {"business_name", "greeting"}
    assert stack.client(token=None).get("/api/v1/channel-settings").status_code == 401
