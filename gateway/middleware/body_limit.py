"""413 for request bodies over their cap: by Content-Length, and by counting the bytes as they stream in."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.middleware.bodies import BodyTooLarge, read_body, replaying


class BodyLimitMiddleware:
    """Refuses bodies larger than `max_bytes` (or, on the paths in `upload_caps`, their own cap).

    No path is exempt. Ordinary bodies are small and read whole before the app sees them, so a
    chunked body cannot slip past the cap. Upload bodies are not read ahead: their routes check the
    caller before they read a byte (an unauthenticated upload is refused unread), so they are counted
    as the route consumes them and cut off with a 413 the moment they pass the cap.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, upload_caps: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_caps = dict(upload_caps or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload_cap = self.upload_caps.get(scope["path"].rstrip("/"))
        cap = self.max_bytes if upload_cap is None else upload_cap
        declared = _content_length(scope)
        if declared is not None and declared > cap:
            await _refuse(send, cap)
            return
        if declared == 0 or (scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE") and declared is None):
            await self.app(scope, receive, send)
            return
        if upload_cap is not None:
            await _run_counted(self.app, scope, receive, send, cap=cap)
            return
        try:
            body = await read_body(receive, max_bytes=cap)
        except BodyTooLarge:
            await _refuse(send, cap)
            return
        await self.app(scope, replaying(body, receive), send)


async def _run_counted(app: ASGIApp, scope: Scope, receive: Receive, send: Send, *, cap: int) -> None:
    """Run the app on a receive that raises BodyTooLarge once more than `cap` bytes came in; answer 413.

    The app may turn that exception into a response of its own (a form parser's 400): once the cap
    is passed, whatever the app answers is replaced by the 413.
    """
    size = 0
    exceeded = False
    started = False

    async def counted() -> Message:
        nonlocal size, exceeded
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > cap:
                exceeded = True
                raise BodyTooLarge
        return message

    async def guarded(message: Message) -> None:
        nonlocal started
        if exceeded:
            return
        if message["type"] == "http.response.start":
            started = True
        await send(message)

    try:
        await app(scope, counted, guarded)
    except BodyTooLarge:
        if started:
            raise
    if exceeded and not started:
        await _refuse(send, cap)


async def _refuse(send: Send, cap: int) -> None:
    detail = f"the request body is larger than {cap} bytes (the limit); send less"
    payload = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                # The rest of the body is never read: do not keep the connection for another request.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
