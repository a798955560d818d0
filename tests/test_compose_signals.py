"""docker-compose hands SIGTERM to the gateway itself, not to the shell that starts it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import redis
import yaml

from parley_testkit.servers import ROOT, free_port, wait_until
from parley_testkit.stack import TOKENS
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url

pytestmark = pytest.mark.fault


def test_the_compose_command_hands_sigterm_to_the_gateway(tmp_path: Path) -> None:
    """docker stop signals PID 1, here the `sh -c` that migrates then serves. Unless sh execs the
    server, sh gets the signal (as PID 1 it even ignores it) and the gateway is SIGKILLed at the
    end of the grace period, requests in flight and all. Run the compose command as docker would
    and signal it: the server must be the one that receives it and shuts down."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    shell, flag, script = compose["services"]["gateway"]["command"]
    assert (shell, flag) == ("sh", "-c")
    port = free_port()
    script = script.replace("--host 0.0.0.0 --port 8000", f"--host 127.0.0.1 --port {port}")
    assert str(port) in script
    url = redis_url(dbs.COMPOSE)
    redis.Redis.from_url(url).flushdb()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # `python` is ours
        "PYTHONPATH": str(ROOT),
        "PARLEY_ENV": "test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'parley.db'}",
        "REDIS_URL": url,
        "SERVICE_TOKEN": TOKENS["service"],
        "ADMIN_TOKEN": TOKENS["admin"],
        "WORKER_TOKEN": TOKENS["worker"],
    }
    log_path = tmp_path / "gateway.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["sh", "-c", script], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_until(
                lambda: httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200,
                timeout=90,
                what="gateway migrated and up",
            )
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0, log_path.read_text()[-3000:]
            # Without exec, sh is gone and the server, orphaned, still answers.
            with pytest.raises(httpx.ConnectError):
                httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
            assert "Shutting down" in log_path.read_text(), log_path.read_text()[-3000:]
        finally:
            # Whatever is left of its process group (the orphaned server, if sh did not exec it).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
