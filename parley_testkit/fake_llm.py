"""A scripted OpenAI-compatible chat completions server on loopback.

Stands in for a hosted LLM (the only kind of LLM we may replace): it speaks the documented wire
format (`POST /v1/chat/completions`, streaming as server-sent events, `GET /v1/models`) and
answers from rules the test sets, so channel tests can ask for a 10,000-character answer or a
broken HTML one. Point a worker at it with `LLM_PROVIDER=openai`, `OPENAI_BASE_URL=<url>/v1`.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is part of the script, not an error.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@dataclass
class Rule:
    """When the customer's last message contains `when`, answer `answer` (or fail with `status`)."""

    when: str
    answer: str = ""
    status: int = 200
    times: int | None = None  # how many requests the rule applies to; None: always
    delay_seconds: float = 0.0
    #: Pause between streamed pieces, as a model decoding token by token does.
    piece_delay_seconds: float = 0.0
    #: Before the first piece, an SSE comment every half second for this long, as OpenRouter sends
    #: (": OPENROUTER PROCESSING") while a model is queued: the line is busy, no token comes.
    keepalive_seconds: float = 0.0


@dataclass
class FakeLLM:
    default_answer: str = "Thank you for your message! A colleague will follow up shortly."
    rules: list[Rule] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    #: Speech-to-text (`POST /v1/audio/transcriptions`): uploaded audio bytes → the transcript returned.
    transcripts: dict[bytes, str] = field(default_factory=dict)
    transcription_requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the server first"
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    @property
    def worker_env(self) -> dict[str, str]:
        """The environment that points a worker at this server.

        The legacy answer pipeline: the scripted text is what the customer receives, as the tests of
        channels and delivery need. Tests of the grounded pipeline set ANSWER_PIPELINE=grounded."""
        return {
            "LLM_PROVIDER": "openai",
            "OPENAI_BASE_URL": self.url,
            "OPENAI_API_KEY": "sk-test",
            "ANSWER_PIPELINE": "legacy",
        }

    def add(self, rule: Rule) -> None:
        with self._lock:
            self.rules.insert(0, rule)

    def _pick(self, body: dict[str, Any]) -> Rule:
        last_user = next((m["content"] for m in reversed(body.get("messages", [])) if m.get("role") == "user"), "")
        with self._lock:
            self.requests.append(body)
            for rule in self.rules:
                if rule.when in last_user and (rule.times is None or rule.times > 0):
                    if rule.times is not None:
                        rule.times -= 1
                    return rule
        return Rule(when="", answer=self.default_answer)

    def start(self) -> FakeLLM:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path.rstrip("/") == "/v1/models":
                    self._send(
                        200, json.dumps({"object": "list", "data": [{"id": "fake", "object": "model"}]}).encode()
                    )
                else:
                    self._send(404, b'{"error": {"message": "not found"}}')

            def do_POST(self) -> None:
                if self.path.rstrip("/") == "/v1/audio/transcriptions":
                    upload = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                    with fake._lock:
                        fake.transcription_requests += 1
                        found = [text for audio, text in fake.transcripts.items() if audio in upload]
                    if found and b'name="model"' in upload:
                        self._send(200, json.dumps({"text": found[0]}).encode())
                    else:
                        self._send(400, b'{"error": {"message": "could not decode audio"}}')
                    return
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, b'{"error": {"message": "not found"}}')
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                rule = fake._pick(body)
                if rule.delay_seconds:
                    time.sleep(rule.delay_seconds)
                if rule.status != 200:
                    error = {"error": {"message": f"scripted failure {rule.status}", "type": "server_error"}}
                    self._send(rule.status, json.dumps(error).encode())
                    return
                created = int(time.time())
                if not body.get("stream"):
                    completion = {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion",
                        "created": created,
                        "model": body.get("model", "fake"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": rule.answer},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {
                            "prompt_tokens": 10,
                            "completion_tokens": len(rule.answer.split()),
                            "total_tokens": 0,
                        },
                    }
                    self._send(200, json.dumps(completion).encode())
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                kept_until = time.monotonic() + rule.keepalive_seconds
                while time.monotonic() < kept_until:
                    self.wfile.write(b": OPENROUTER PROCESSING\n\n")
                    self.wfile.flush()
                    time.sleep(0.5)
                pieces = [w + " " for w in rule.answer.split(" ")]
                pieces[-1] = pieces[-1][:-1]
                for piece in pieces:
                    chunk = {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": body.get("model", "fake"),
                        "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                    }
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    if rule.piece_delay_seconds:
                        self.wfile.flush()
                        time.sleep(rule.piece_delay_seconds)
                done = {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": body.get("model", "fake"),
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": len(pieces), "total_tokens": 10 + len(pieces)},
                }
                self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()
                self.close_connection = True

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
