"""Conversation search and transcript export (JSON and CSV)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from parley_testkit.stack import Stack, start_stack
from tests.gateway.admin_support import ask, new_tenant, post_message
from tests.support import redis_dbs as dbs
from tests.support.databases import fresh_postgres_database, redis_url


def test_search_finds_a_conversation_by_a_word_and_not_another_tenants(partner_stack: Stack) -> None:
    mine, theirs = new_tenant(partner_stack), new_tenant(partner_stack)
    word = f"Zanzibar{uuid.uuid4().hex[:6]}"
    found = post_message(mine, f"Do you ship to {word}?", chat_id="chat-a")
    post_message(mine, "Unrelated question", chat_id="chat-b")
    post_message(theirs, f"Do you ship to {word}?", chat_id="chat-a")

    page = mine.admin.get(mine.url("/conversations"), params={"q": word.lower()}).json()
    assert page["total"] == 1
    [hit] = page["items"]
    assert hit["conversation_id"] == found["conversation_id"]
    assert (hit["channel"], hit["chat_id"], hit["user_message_count"]) == ("web", "chat-a", 1)

    assert mine.admin.get(mine.url("/conversations")).json()["total"] == 2
    assert mine.admin.get(mine.url("/conversations"), params={"chat_id": "chat-b"}).json()["total"] == 1
    assert mine.admin.get(mine.url("/conversations"), params={"channel": "telegram"}).json()["total"] == 0
    assert mine.admin.get(mine.url("/conversations"), params={"q": "100%_"}).json()["total"] == 0  # no wildcards
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert mine.admin.get(mine.url("/conversations"), params={"since": later}).json()["total"] == 0
    assert mine.admin.get(mine.url("/conversations"), params={"until": later}).json()["total"] == 2
    assert mine.admin.get(mine.url("/conversations"), params={"limit": 1}).json()["items"][0]["chat_id"] == "chat-b"
    assert mine.admin.get(mine.url("/conversations"), params={"since": "yesterday"}).status_code == 422


def test_transcript_exports_as_json_and_csv(partner_stack: Stack) -> None:
    tenant = new_tenant(partner_stack)
    text = 'Price of "Model X", please\nand delivery, too'
    task = ask(tenant, text)
    assert task["status"] == "done"
    conversation = task["conversation_id"]

    exported = tenant.admin.get(tenant.url(f"/conversations/{conversation}/export"), params={"format": "csv"})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["content-disposition"] == f'attachment; filename="conversation-{conversation}.csv"'
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == ["created_at", "role", "text", "task_id"]
    assert [(r[1], r[2]) for r in rows[1:]] == [("user", text), ("assistant", task["answer"])]
    assert rows[2][3] == task["task_id"]

    as_json = tenant.admin.get(tenant.url(f"/conversations/{conversation}/export"))
    assert as_json.headers["content-disposition"].startswith("attachment;")
    assert [m["text"] for m in json.loads(as_json.text)["messages"]] == [text, task["answer"]]

    everything = tenant.admin.get(tenant.url("/conversations/export"), params={"format": "csv", "q": "model x"})
    rows = list(csv.reader(io.StringIO(everything.text)))
    assert rows[0][:3] == ["conversation_id", "channel", "chat_id"] and {r[0] for r in rows[1:]} == {conversation}
    assert len(json.loads(tenant.admin.get(tenant.url("/conversations/export")).text)) == 1
    assert tenant.admin.get(tenant.url("/conversations/nope/export")).status_code == 404
    assert (
        tenant.admin.get(tenant.url(f"/conversations/{conversation}/export"), params={"format": "xml"}).status_code
        == 422
    )
    other = new_tenant(partner_stack)
    assert other.admin.get(other.url(f"/conversations/{conversation}/export")).status_code == 404


@pytest.fixture(params=["sqlite", "postgres"])
def gateway_only(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stack]:
    """A gateway without a worker (messages stay queued) on each database."""
    with contextlib.ExitStack() as resources:
        if request.param == "postgres":
            database_url = resources.enter_context(fresh_postgres_database("parley_admin"))
        else:
            database_url = f"sqlite:///{tmp_path / 'parley.db'}"
        stack = start_stack(
            name="admin", workdir=tmp_path, database_url=database_url, redis_url=redis_url(dbs.ADMIN_CONVERSATIONS)
        )
        resources.callback(stack.close)
        yield stack


def test_search_is_case_insensitive_and_filters_dates_on_both_databases(gateway_only: Stack) -> None:
    tenant = new_tenant(gateway_only)
    post_message(tenant, "Ist die LIEFERUNG nach Dubai kostenlos?", chat_id="de-1")
    post_message(tenant, "Where is my order?", chat_id="en-1")
    page = tenant.admin.get(tenant.url("/conversations"), params={"q": "lieferung"}).json()
    assert [h["chat_id"] for h in page["items"]] == ["de-1"]
    assert page["items"][0]["message_count"] == 1
    now = datetime.now(UTC)
    window = {"since": (now - timedelta(minutes=5)).isoformat(), "until": (now + timedelta(minutes=5)).isoformat()}
    assert tenant.admin.get(tenant.url("/conversations"), params=window).json()["total"] == 2
    naive_future = (now + timedelta(minutes=5)).replace(tzinfo=None).isoformat()  # no offset: UTC
    assert tenant.admin.get(tenant.url("/conversations"), params={"since": naive_future}).json()["total"] == 0
    earlier = {"until": (now - timedelta(minutes=5)).isoformat()}
    assert tenant.admin.get(tenant.url("/conversations"), params=earlier).json()["total"] == 0
