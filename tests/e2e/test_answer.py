"""A customer question answered end to end by the real worker, retrieval and llama.cpp model."""

from __future__ import annotations

import uuid

from tests.support.stack import Stack


def test_question_is_answered_with_sources_and_timings(stack: Stack) -> None:
    chat_id = f"e2e-{uuid.uuid4().hex[:8]}"
    task = stack.ask("Do you deliver to Abu Dhabi?", key=f"e2e:{chat_id}", chat_id=chat_id, wait=180)

    assert task["status"] == "done", task
    assert task["answer"].strip()
    assert any(s["document"] == "delivery-and-returns.md" for s in task["sources"]), task["sources"]
    timings = task["timings"]
    assert timings["retrieval_ms"] > 0 and timings["generation_ms"] > 0
    assert timings["completion_tokens"] > 0 and timings["tokens_per_s"] > 0
    assert timings["prompt_tokens"] and timings["prompt_tokens"] > 50
    assert timings["queue_wait_ms"] is not None and timings["time_to_first_token_ms"] > 0

    transcript = stack.client().get(f"/api/v1/conversations/{task['conversation_id']}/messages").json()
    assert [(m["role"], m["text"]) for m in transcript["messages"]] == [
        ("user", "Do you deliver to Abu Dhabi?"),
        ("assistant", task["answer"]),
    ]


def test_follow_up_sees_the_conversation_history(stack: Stack) -> None:
    chat_id = f"e2e-{uuid.uuid4().hex[:8]}"
    first = stack.ask("What are your showroom opening hours?", chat_id=chat_id, wait=180)
    second = stack.ask("And where is the showroom?", chat_id=chat_id, wait=180)
    assert first["status"] == second["status"] == "done"
    assert first["conversation_id"] == second["conversation_id"]
    transcript = stack.client().get(f"/api/v1/conversations/{second['conversation_id']}/messages").json()
    assert [m["role"] for m in transcript["messages"]] == ["user", "assistant", "user", "assistant"]
