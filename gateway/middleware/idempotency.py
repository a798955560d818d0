"""`Idempotency-Key` on POST: the same API key, Idempotency-Key and body replay the first response;
another body → 409.

Records live in Redis per API key (its id, not only its tenant), method, path and Idempotency-Key,
for `ttl_seconds`: another key, even of the same tenant, never sees a record it did not make (its
request runs and the route authorises it as usual), and a key is replayed only what it was itself
answered. While the first request runs its record is "pending": duplicates arriving meanwhile (a
webhook delivered five times at once) wait for it and replay its response; 409 only if it is still
running after `wait_seconds`.

Kept: 2xx and 4xx responses, except 401 and 403 (a refusal says who asked, not what the request
did) and 408, 409, 425 and 429 (a retry may change them); a 5xx or a lost connection removes the
record so the request can be retried. A response carrying a secret (a new API key, a callback
secret) is never kept: its route declares the `never_replayed` dependency, which sets a flag in the
request's ASGI scope (`request.state`) that this middleware reads once the route has answered (not a
response header, which the client would see). A 2xx so marked leaves a "sealed" record: a retry
with the same key and body is refused with 409 (it already happened, and the secret is shown once)
rather than shown the secret again or run twice.

The body is hashed to compare duplicates. On most paths it is small (BodyLimitMiddleware caps it)
and read before the app runs. On `streamed_paths` (uploads, which their routes read only after
checking the caller) it is not read ahead but hashed as the route reads it; a duplicate's body is
read only to compare it with a record its own key made.
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
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.auth import Principal
from gateway.middleware.bodies import BodyTooLarge, read_body, replaying

log = logging.getLogger(__name__)

REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_CHARS = 255
#: Responses larger than this are not kept (a duplicate then runs again).
MAX_STORED_BODY_BYTES = 1024 * 1024
_NOT_KEPT = frozenset({401, 403, 408, 409, 425, 429})
#: The flag `never_replayed` sets in the ASGI scope's state.
_NEVER_REPLAYED = "parley_never_replayed"
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


def never_replayed(request: Request) -> None:
    """A route dependency: this route's responses carry a secret, so they are never kept for replays."""
    setattr(request.state, _NEVER_REPLAYED, True)


def idempotency_record_key(*, tenant_id: str, key_id: str, method: str, path: str, key: str) -> str:
    """The Redis key of a replay record: it belongs to the API key that made the request."""
    digest = hashlib.sha256("\n".join((tenant_id, key_id, method, path, key)).encode()).hexdigest()
    return "parley:idempotency:" + digest


class IdempotencyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        redis: Callable[[], Redis],
        authenticate: Callable[[str], Awaitable[Principal | None]],
        ttl_seconds: int,
        max_body_bytes: int,
        streamed_paths: frozenset[str] = frozenset(),
        wait_seconds: float = 10.0,
        pending_ttl_seconds: int = 300,
    ) -> None:
        self.app = app
        self.redis = redis
        self.authenticate = authenticate
        self.ttl_seconds = ttl_seconds
        self.max_body_bytes = max_body_bytes
        self.streamed_paths = streamed_paths
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
        if principal is None or principal.key_id is None:
            # The route answers 401; nothing to remember.
            await self.app(scope, receive, send)
            return
        record_key = idempotency_record_key(
            tenant_id=principal.tenant_id, key_id=principal.key_id, method=scope["method"], path=scope["path"], key=key
        )
        call = _Call(scope=scope, receive=receive, send=send, key=key, record_key=record_key)
        if scope["path"].rstrip("/") not in self.streamed_paths and not await self._read_ahead(call):
            return
        await self._first_or_duplicate(call)

    async def _read_ahead(self, call: _Call) -> bool:
        """Read and hash the body before the app runs (False: too large, answered 413)."""
        try:
            # Held in memory to compare it: bounded even on the upload routes the body cap lets through.
            body = await read_body(call.receive, max_bytes=self.max_body_bytes)
        except BodyTooLarge:
            await _send_json(call.send, 413, f"the request body is larger than {self.max_body_bytes} bytes (the limit)")
            return False
        call.receive = replaying(body, call.receive)
        call.request_hash = body_hash(body, call.content_type)
        return True

    async def _first_or_duplicate(self, call: _Call) -> None:
        redis = self.redis()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_seconds
        while True:
            pending = json.dumps({"state": "pending", "hash": call.request_hash})
            try:
                first = await redis.set(call.record_key, pending, nx=True, ex=self.pending_ttl_seconds)
                raw = None if first else await redis.get(call.record_key)
            except RedisError as exc:
                log.error("idempotency: redis error: %s", exc)
                await _send_json(call.send, 503, "the queue is unavailable; please retry shortly", retry_after=5)
                return
            if first:
                await self._run_and_keep(call, redis=redis)
                return
            if raw is None:
                continue  # the first request failed and let go of the key: run this one
            record: dict[str, Any] = json.loads(raw)
            if (record["state"] != "pending" or record["hash"] is not None) and not await self._same_body(call, record):
                return
            if record["state"] != "pending":
                await _answer_duplicate(call, record)
                return
            if loop.time() >= deadline:
                detail = f"a request with Idempotency-Key {call.key!r} is still in progress; retry shortly"
                await _send_json(call.send, 409, detail)
                return
            await asyncio.sleep(0.05)

    async def _same_body(self, call: _Call, record: dict[str, Any]) -> bool:
        """Whether the duplicate's body is the recorded one (False: answered 409 or 413)."""
        # An upload's body is read only now, to compare it with a record this same key made.
        if call.request_hash is None and not await self._read_ahead(call):
            return False
        if record["hash"] != call.request_hash:
            detail = f"Idempotency-Key {call.key!r} was already used with a different request body"
            await _send_json(call.send, 409, detail)
            return False
        return True

    async def _run_and_keep(self, call: _Call, *, redis: Redis) -> None:
        # `never_replayed` writes its flag into this dict (Request.state lives in scope["state"]).
        state: dict[str, Any] = call.scope.setdefault("state", {})
        # A body not read ahead (an upload's) is hashed as the route reads it.
        tee = _BodyTee(call.receive, max_bytes=self.max_body_bytes) if call.request_hash is None else None
        response = _Captured(call.send)
        keep = False
        try:
            await self.app(call.scope, call.receive if tee is None else tee.receive, response.send)
            keep = 200 <= response.status < 500 and response.status not in _NOT_KEPT and response.fits
        finally:
            request_hash = call.request_hash if tee is None else tee.hash(call.content_type)
            try:
                if keep and request_hash is not None:
                    record = response.record(request_hash, sealed=bool(state.get(_NEVER_REPLAYED)))
                    if record is not None:
                        await redis.set(call.record_key, json.dumps(record), ex=self.ttl_seconds)
                    else:
                        await redis.delete(call.record_key)
                else:
                    await redis.delete(call.record_key)
            except Exception:
                # The response went out; a lost record only means a duplicate runs again (the
                # message route still finds its task by the key in the database).
                log.warning("could not store the idempotency record", exc_info=True)


class _Call:
    """One POST with an Idempotency-Key, as the middleware handles it."""

    def __init__(self, *, scope: Scope, receive: Receive, send: Send, key: str, record_key: str) -> None:
        self.scope = scope
        self.receive = receive
        self.send = send
        self.key = key
        self.record_key = record_key
        self.content_type = Headers(scope=scope).get("content-type")
        #: None until the body is read (an upload's is hashed as its route reads it).
        self.request_hash: str | None = None


class _BodyTee:
    """Hands the body to the app as it asks for it, keeping a copy (up to `max_bytes`) to hash."""

    def __init__(self, receive: Receive, *, max_bytes: int) -> None:
        self._receive = receive
        self._max_bytes = max_bytes
        self._chunks: list[bytes] = []
        self._size = 0
        self._complete = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request" and not self._complete:
            chunk: bytes = message.get("body", b"")
            self._size += len(chunk)
            if self._size <= self._max_bytes:
                self._chunks.append(chunk)
            self._complete = not message.get("more_body", False)
        return message

    def hash(self, content_type: str | None) -> str | None:
        """The body's hash, if the app read all of it (and it was not over `max_bytes`)."""
        if not self._complete or self._size > self._max_bytes:
            return None
        return body_hash(b"".join(self._chunks), content_type)


class _Captured:
    """The app's response, passed on as it is made and kept (up to MAX_STORED_BODY_BYTES) for replays."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status = 0
        self.headers: list[list[str]] = []
        self._chunks: list[bytes] = []
        self.size = 0

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers.extend(
                [name.decode("latin-1"), value.decode("latin-1")]
                for name, value in message.get("headers", [])
                if name.lower() not in _NOT_REPLAYED
            )
        elif message["type"] == "http.response.body":
            chunk: bytes = message.get("body", b"")
            self.size += len(chunk)
            if self.size <= MAX_STORED_BODY_BYTES:
                self._chunks.append(chunk)
        await self._send(message)

    @property
    def fits(self) -> bool:
        """Whether the whole body was kept (larger ones are not stored: a duplicate runs again)."""
        return self.size <= MAX_STORED_BODY_BYTES

    def record(self, request_hash: str, *, sealed: bool) -> dict[str, Any] | None:
        """What to store: the response; only its status if it carried a secret (None: nothing)."""
        if sealed:
            # A secret's route answering an error carried no secret, but nothing is gained by keeping it.
            return {"state": "sealed", "hash": request_hash, "status": self.status} if self.status < 300 else None
        body = base64.b64encode(b"".join(self._chunks)).decode()
        return {"state": "done", "hash": request_hash, "status": self.status, "headers": self.headers, "body": body}


async def _answer_duplicate(call: _Call, record: dict[str, Any]) -> None:
    if record["state"] == "sealed":
        detail = (
            f"a request with Idempotency-Key {call.key!r} already succeeded; its response carried a secret, "
            "which is shown once and not replayed: look up what it made, or send a new Idempotency-Key to "
            "do it again"
        )
        await _send_json(call.send, 409, detail)
        return
    await _replay(call.send, record)


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
