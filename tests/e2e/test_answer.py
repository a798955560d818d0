"""A customer question answered end to end by the real worker, retrieval and llama.cpp model."""

from __future__ import annotations

import uuid

from parley_testkit.stack import Stack


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


def test_a_conversation_longer_than_the_model_context_is_answered_within_it(sqlite_stack: Stack) -> None:
    """Three long messages in one chat: with its history the third turn would be twice the bundled
    model's 4,096-token context; the prompt is cut to its cap (history, then excerpts, then the
    question's start) instead of the task failing."""
    chat_id = f"e2e-long-{uuid.uuid4().hex[:8]}"
    complaint = (
        "Hello, I ordered the Dune three-seater sofa in sand linen last month and the delivery was moved "
        "twice without anyone calling me, the second time while I had taken the day off work to wait for it. "
    ) * 20
    asked = [
        complaint + "Can you tell me when it will arrive?",
        complaint + "Also, do you deliver to Abu Dhabi on Fridays?",
        complaint + "Finally, what is your return policy if the colour is not right?",
    ]
    assert all(3900 < len(text) <= 4096 for text in asked)  # the gateway takes up to 4,096 characters
    tasks = [sqlite_stack.ask(text, chat_id=chat_id, wait=300) for text in asked]
    for task in tasks:
        assert task["status"] == "done", task
        assert task["answer"].strip()
        # LLM_MAX_PROMPT_TOKENS (3,000) is below what the 4,096-token context leaves after the answer.
        assert task["timings"]["prompt_tokens"] <= 3000, task["timings"]
    assert tasks[-1]["timings"]["prompt_tokens"] > 1500  # history and excerpts fill the cap, not just the question
