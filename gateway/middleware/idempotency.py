"""`Idempotency-Key` on POST: the same key and body replay the first response; another body → 409.

Records live in Redis per tenant, method, path and key, for `ttl_seconds`. While the first
request runs its record is "pending": duplicates arriving meanwhile (a webhook delivered five
times at once) wait for it and replay its response; 409 only if it is still running after
`wait_seconds`. Only 2xx and 4xx responses are kept (not 409 and 429, which a retry may change);
a 5xx or a lost connection removes the record so the request can be retried.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.auth import Principal
from gateway.middleware.bodies import BodyTooLarge, read_body, replaying

log = logging.getLogger(__name__)

REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_CHARS = 255
#: Responses larger than this are not kept (a duplicate then runs again).
MAX_STORED_BODY_BYTES = 1024 * 1024
_NOT_KEPT = frozenset({408, 409, 425, 429})
#: Headers of the first response that are not replayed (they describe that moment, not the result).
_NOT_REPLAYED = frozenset(
    {b"date", b"server", b"content-length", b"x-ratelimit-limit", b"x-ratelimit-remaining", b"x-ratelimit-reset"}
)


def body_hash(body: bytes, content_type: str | None) -> str:
    """SHA-256 of the body; JSON is canonicalised first, so key order and spacing do not matter."""
    if content_type and content_type.split(";")[0].strip().lower().endswith("json"):
        try:
            canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        except ValueError:
            pass
        else:
            # surrogatepass: a lone surrogate (refused by the route with 422) must not crash the hash.
            return "json:" + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
    return "raw:" + hashlib.sha256(body).hexdigest()


class IdempotencyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        redis: Callable[[], Redis],
        authenticate: Callable[[str], Awaitable[Principal | None]],
        ttl_seconds: int,
        max_body_bytes: int,
        wait_seconds: float = 10.0,
        pending_ttl_seconds: int = 300,
    ) -> None:
        self.app = app
        self.redis = redis
        self.authenticate = authenticate
        self.ttl_seconds = ttl_seconds
        self.max_body_bytes = max_body_bytes
        self.wait_seconds = wait_seconds
        self.pending_ttl_seconds = pending_ttl_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get("idempotency-key")
        authorization = headers.get("authorization", "")
        if not key or not authorization.lower().startswith("bearer "):
            await self.app(scope, receive, send)
            return
        if len(key) > MAX_KEY_CHARS:
            await _send_json(send, 400, f"Idempotency-Key is longer than {MAX_KEY_CHARS} characters")
            return
        try:
            principal = await self.authenticate(authorization[7:].strip())
        except (DBAPIError, OSError) as exc:
            log.error("idempotency: could not check the key: %s", exc)
            await _send_json(send, 503, "the database is unavailable; please retry shortly", retry_after=5)
            return
        if principal is None:
            # The route answers 401; nothing to remember.
            await self.app(scope, receive, send)
            return
        try:
            # Held in memory to compare it: bounded even on the upload routes the body cap lets through.
            body = await read_body(receive, max_bytes=self.max_body_bytes)
        except BodyTooLarge:
            await _send_json(send, 413, f"the request body is larger than {self.max_body_bytes} bytes (the limit)")
            return
        receive = replaying(body, receive)
        request_hash = body_hash(body, headers.get("content-type"))
        record_key = (
            "parley:idempotency:"
            + hashlib.sha256("\n".join((principal.tenant_id, scope["method"], scope["path"], key)).encode()).hexdigest()
        )
        redis = self.redis()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_seconds
        while True:
            pending = json.dumps({"state": "pending", "hash": request_hash})
            try:
                first = await redis.set(record_key, pending, nx=True, ex=self.pending_ttl_seconds)
                raw = None if first else await redis.get(record_key)
            except RedisError as exc:
                log.error("idempotency: redis error: %s", exc)
                await _send_json(send, 503, "the queue is unavailable; please retry shortly", retry_after=5)
                return
            if first:
                await self._run_and_keep(
                    scope, receive, send, redis=redis, record_key=record_key, request_hash=request_hash
                )
                return
            if raw is None:
                continue  # the first request failed and let go of the key: run this one
            record: dict[str, Any] = json.loads(raw)
            if record["hash"] != request_hash:
                await _send_json(send, 409, f"Idempotency-Key {key!r} was already used with a different request body")
                return
            if record["state"] == "done":
                await _replay(send, record)
                return
            if loop.time() >= deadline:
                await _send_json(
                    send, 409, f"a request with Idempotency-Key {key!r} is still in progress; retry shortly"
                )
                return
            await asyncio.sleep(0.05)

    async def _run_and_keep(
        self, scope: Scope, receive: Receive, send: Send, *, redis: Redis, record_key: str, request_hash: str
    ) -> None:
        status = 0
        kept_headers: list[list[str]] = []
        chunks: list[bytes] = []
        size = 0

        async def capture(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
                kept_headers.extend(
                    [name.decode("latin-1"), value.decode("latin-1")]
                    for name, value in message.get("headers", [])
                    if name.lower() not in _NOT_REPLAYED
                )
            elif message["type"] == "http.response.body":
                chunk: bytes = message.get("body", b"")
                size += len(chunk)
                if size <= MAX_STORED_BODY_BYTES:
                    chunks.append(chunk)
            await send(message)

        keep = False
        try:
            await self.app(scope, receive, capture)
            keep = 200 <= status < 500 and status not in _NOT_KEPT and size <= MAX_STORED_BODY_BYTES
        finally:
            try:
                if keep:
                    record = {
                        "state": "done",
                        "hash": request_hash,
                        "status": status,
                        "headers": kept_headers,
                        "body": base64.b64encode(b"".join(chunks)).decode(),
                    }
                    await redis.set(record_key, json.dumps(record), ex=self.ttl_seconds)
                else:
                    await redis.delete(record_key)
            except Exception:
                # The response went out; a lost record only means a duplicate runs again (the
                # message route still finds its task by the key in the database).
                log.warning("could not store the idempotency record", exc_info=True)


async def _replay(send: Send, record: dict[str, Any]) -> None:
    body = base64.b64decode(record["body"])
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in record["headers"]]
    headers += [(REPLAYED_HEADER.lower().encode(), b"true"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": record["status"], "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_json(send: Send, status: int, detail: str, *, retry_after: int | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
