"""A partner's callback receiver: a real HTTP server on loopback that records what it is sent."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from parley_testkit.servers import wait_until


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    #: The status this request was answered with.
    status: int


@dataclass
class CallbackReceiver:
    """Answers `statuses` in order (one per request), then `default_status`.

    While `hold` is cleared, requests wait for it before answering (a slow receiver).
    """

    statuses: list[int] = field(default_factory=list)
    default_status: int = 200
    received: list[Received] = field(default_factory=list)
    hold: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        self.hold.set()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the server first"
        return f"http://127.0.0.1:{self._server.server_port}/parley-hook"

    def start(self) -> CallbackReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.hold.wait(timeout=60)
                with receiver._lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.default_status
                    receiver.received.append(
                        Received(path=self.path, headers=dict(self.headers.items()), body=body, status=status)
                    )
                payload = b'{"ok": true}' if status < 300 else b'{"error": "receiver failed"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.hold.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def wait_for(self, count: int, *, timeout: float = 60) -> list[Received]:
        """The first `count` requests, once they have arrived."""
        wait_until(lambda: len(self.received) >= count, timeout=timeout, what=f"{count} callback(s) at {self.url}")
        with self._lock:
            return list(self.received[:count])
