"""Headers every gateway response carries: no content sniffing, and no caching unless the route says so.

`X-Content-Type-Options: nosniff` keeps a browser from running a JSON or CSV body as HTML or
script; `Cache-Control: no-store` keeps transcripts, keys and tasks out of browser and proxy
caches. A route that sets its own Cache-Control (the SSE stream's `no-cache`) keeps it.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
