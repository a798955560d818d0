"""LLM providers: the real llama.cpp model, and the OpenAI-compatible client against a real server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from ai_worker.llm.base import ChatMessage, GenerationStats, LLMError
from ai_worker.llm.llamacpp import LlamaCppProvider, bundled_model_path
from ai_worker.llm.openai_compat import OpenAICompatibleProvider
from parley_testkit.servers import ServiceProcess, free_port, wait_until

QUESTION: list[ChatMessage] = [{"role": "user", "content": "Say hello to a customer in one short sentence."}]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's own OpenAI-compatible server with the bundled model."""
    port = free_port()
    workdir = tmp_path_factory.mktemp("llama-server")
    server = ServiceProcess(
        [
            "-m",
            "llama_cpp.server",
            "--model",
            str(bundled_model_path()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            "--chat_format",
            "gemma",
            "--model_alias",
            "gemma-3-270m",
        ],
        env={},
        log_path=workdir / "server.log",
        cwd=workdir,
    )
    try:
        wait_until(
            lambda: server.alive() and httpx.get(f"http://127.0.0.1:{port}/v1/models").status_code == 200,
            timeout=120,
            what="llama_cpp.server",
        )
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.stop()
        print(server.log()[-2000:])


def test_llamacpp_streams_tokens() -> None:
    provider = LlamaCppProvider(model_path=bundled_model_path(), n_ctx=2048)
    stats = GenerationStats()
    pieces = list(provider.stream(QUESTION, max_tokens=24, temperature=0.0, stats=stats))
    provider.close()
    assert len(pieces) > 1 and "".join(pieces).strip()
    assert stats.completion_tokens == len(pieces)
    assert stats.prompt_tokens and stats.prompt_tokens > 5


def test_llamacpp_missing_or_broken_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LLMError, match="model file not found"):
        LlamaCppProvider(model_path=tmp_path / "missing.gguf")
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x00" * 64)
    with pytest.raises(LLMError, match="could not load model"):
        LlamaCppProvider(model_path=broken)


def test_openai_provider_streams_from_llama_cpp_server(llama_server: str) -> None:
    provider = OpenAICompatibleProvider(base_url=llama_server, api_key="local", model="gemma-3-270m", timeout=60)
    stats = GenerationStats()
    pieces = list(provider.stream(QUESTION, max_tokens=24, temperature=0.0, stats=stats))
    provider.close()
    assert len(pieces) > 1, pieces
    assert "".join(pieces).strip()
    assert stats.completion_tokens >= len(pieces) - 1
    assert stats.finish_reason in ("stop", "length")


def test_openai_provider_dead_endpoint_is_an_llm_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket closes
    provider = OpenAICompatibleProvider(base_url=f"http://127.0.0.1:{port}/v1", api_key="k", model="m", timeout=3)
    with pytest.raises(LLMError, match="unreachable"):
        list(provider.stream(QUESTION, max_tokens=5, temperature=0, stats=GenerationStats()))


class _Failing(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = b'{"error": {"message": "upstream overloaded", "type": "server_error"}}'
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_openai_provider_http_error_is_an_llm_error() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        provider = OpenAICompatibleProvider(
            base_url=f"http://127.0.0.1:{server.server_port}/v1", api_key="k", model="m", timeout=5
        )
        with pytest.raises(LLMError, match=r"HTTP 503.*upstream overloaded"):
            list(provider.stream(QUESTION, max_tokens=5, temperature=0, stats=GenerationStats()))
    finally:
        server.shutdown()
