"""X-RateLimit-* headers on every response a rate limit counted (also streamed ones)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.services.rate_limits import RateLimitStatus

_STATE_KEY = "parley_rate_limit"


def note_rate_limit(request: Request, status: RateLimitStatus) -> None:
    """Remember a limit the request was counted against; the tightest one is reported."""
    known: RateLimitStatus | None = getattr(request.state, _STATE_KEY, None)
    if known is None or status.remaining < known.remaining:
        setattr(request.state, _STATE_KEY, status)


class RateLimitHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Request.state lives in scope["state"]; make sure routes and this middleware share one dict.
        scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status: RateLimitStatus | None = scope["state"].get(_STATE_KEY)
                if status is not None:
                    headers = MutableHeaders(scope=message)
                    for name, value in status.headers().items():
                        if name not in headers:
                            headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
