"""Idempotency-Key on a streaming (SSE) POST: the stream is passed through as it is made, not
buffered, and a retry gets the whole stream replayed. The real gateway (PostgreSQL, Redis, its
middleware and keys) with one extra streaming route of the test's own."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import redis
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from gateway.app import create_app
from gateway.deps import MessagesWriter
from gateway.migrate import upgrade
from parley_testkit.servers import UvicornThread
from parley_testkit.stack import TOKENS, gateway_settings
from tests.support import redis_dbs as dbs
from tests.support.databases import fresh_postgres_database, redis_url

#: Set by the test once the first event has reached the client: the route only then finishes.
release = threading.Event()
runs: list[str] = []


def add_streaming_route(app: FastAPI) -> None:
    async def stream(_: MessagesWriter) -> StreamingResponse:
        runs.append("run")

        async def events() -> AsyncIterator[bytes]:
            yield b"data: first\n\n"
            if not await asyncio.to_thread(release.wait, 10):
                yield b"data: the client never saw the first event\n\n"
                return
            yield b"data: second\n\n"
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    app.add_api_route("/api/v1/test-stream", stream, methods=["POST"])


@pytest.fixture(scope="module")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_postgres_database("parley_idem_stream") as database_url:
        settings = gateway_settings(database_url=database_url, redis_url=redis_url(dbs.IDEMPOTENCY))
        redis.Redis.from_url(settings.redis_url).flushdb()
        upgrade(settings)
        app = create_app(settings)
        add_streaming_route(app)
        server = UvicornThread(app).start()
        try:
            yield server.url
        finally:
            server.stop()


def test_a_stream_passes_through_unbuffered_and_is_replayed_whole(gateway_url: str) -> None:
    headers = {"Authorization": f"Bearer {TOKENS['service']}", "Idempotency-Key": f"stream-{uuid.uuid4().hex}"}
    with httpx.Client(base_url=gateway_url, headers=headers, timeout=30) as client:
        with client.stream("POST", "/api/v1/test-stream", json={"q": "hi"}) as response:
            assert response.status_code == 200
            lines = response.iter_lines()
            # Buffering anywhere would hold this first event until the route finished, which it
            # does only after the event arrived: the read would time out instead.
            assert next(lines) == "data: first"
            release.set()
            rest = [line for line in lines if line]
        assert rest == ["data: second", "data: [DONE]"]

        replay = client.post("/api/v1/test-stream", json={"q": "hi"})
        assert replay.status_code == 200
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.headers["content-type"].startswith("text/event-stream")
        assert replay.text == "data: first\n\ndata: second\n\ndata: [DONE]\n\n"
        assert runs == ["run"]
