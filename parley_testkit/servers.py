"""Real servers on loopback for the tests and the benchmarks: the gateway (uvicorn in a thread) and subprocesses."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(interval)
    raise TimeoutError(f"{what} not reached within {timeout:.0f} s")


class UvicornThread:
    """An ASGI app served by uvicorn on a free loopback port, in a background thread."""

    def __init__(self, app: Any, *, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # A request still open when the test stops the server (a client's 30 s long poll whose client
        # has gone) is cancelled after this, instead of holding the shutdown until it ends.
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on", timeout_graceful_shutdown=5
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._server.serve()

    def start(self) -> UvicornThread:
        self._thread.start()
        wait_until(lambda: self._server.started, timeout=30, what=f"server on {self.url}")
        return self

    def stop(self) -> None:
        """Stop serving; a server still up after 15 s is forced down (its background loops would share the
        next test's Redis database); one that still hangs is reported, not failed."""
        self._server.should_exit = True
        self._thread.join(timeout=15)
        if self._thread.is_alive():
            waiting = self._waiting_on()
            self._server.force_exit = True
            self._thread.join(timeout=15)
            if self._thread.is_alive():
                warnings.warn(
                    f"the server on {self.url} did not stop within 30 s; after 15 s it was {waiting}",
                    RuntimeWarning,
                    stacklevel=2,
                )

    def _waiting_on(self) -> str:
        """What a server that does not stop is waiting for: its open connections and its loop's tasks."""
        state = self._server.server_state
        awaiting = []
        try:
            for task in asyncio.all_tasks(self._loop) if self._loop is not None else ():
                frames = task.get_stack(limit=1)
                at = f"{frames[-1].f_code.co_filename}:{frames[-1].f_lineno}" if frames else "?"
                awaiting.append(f"{task.get_name()} at {at}")
        except RuntimeError:  # the loop's task set changed while it was read
            pass
        return f"holding {len(state.connections)} connection(s); its tasks: {'; '.join(awaiting) or '?'}"


class ServiceProcess:
    """A service started as its own process (`python -m ...`), output kept in a log file."""

    def __init__(self, args: list[str], *, env: dict[str, str], log_path: Path, cwd: Path) -> None:
        self._start([sys.executable, *args], env=env, log_path=log_path, cwd=cwd)

    @classmethod
    def for_binary(cls, command: list[str], *, log_path: Path, cwd: Path) -> ServiceProcess:
        process = cls.__new__(cls)
        process._start(command, env={}, log_path=log_path, cwd=cwd)
        return process

    def _start(self, command: list[str], *, env: dict[str, str], log_path: Path, cwd: Path) -> None:
        self.args = command
        self.env = env
        self.log_path = log_path
        full_env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", **env}
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(command, env=full_env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT)

    def log(self, since: int = 0) -> str:
        """What the process wrote, from character `since` on (`len(log())` taken earlier: only what came after)."""
        return self.log_path.read_text(errors="replace")[since:]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def get_json(url: str, **kwargs: Any) -> Any:
    response = httpx.get(url, timeout=35, **kwargs)
    response.raise_for_status()
    return response.json()
