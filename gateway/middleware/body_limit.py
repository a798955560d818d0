"""413 for request bodies over `max_body_bytes`: by Content-Length, and while reading chunked bodies."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.middleware.bodies import BodyTooLarge, read_body, replaying


class BodyLimitMiddleware:
    """Refuses bodies larger than `max_bytes` before the app sees them.

    Paths in `exempt_paths` (document uploads) are passed through: their routes stream the upload
    and apply their own, larger cap.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, exempt_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt_paths = exempt_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        if declared == 0 or (scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE") and declared is None):
            await self.app(scope, receive, send)
            return
        try:
            # Bodies under the cap are small: read them whole, so a chunked body cannot slip past it.
            body = await read_body(receive, max_bytes=self.max_bytes)
        except BodyTooLarge:
            await self._refuse(send)
            return
        await self.app(scope, replaying(body, receive), send)

    async def _refuse(self, send: Send) -> None:
        detail = f"the request body is larger than {self.max_bytes} bytes (the limit); send less"
        payload = json.dumps({"detail": detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
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
