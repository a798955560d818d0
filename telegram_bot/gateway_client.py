"""The gateway over HTTP: post messages, rate answers, reset conversations, read channel settings."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from pydantic import BaseModel

from parley_contract.logging import request_id_headers
from parley_contract.runtime.retry import transient_status
from parley_contract.schemas import (
    ChannelSettings,
    ConversationReset,
    ConversationResetOut,
    FeedbackIn,
    FeedbackRating,
    MessageAccepted,
    MessageIn,
    UserIn,
)

log = logging.getLogger(__name__)

CHANNEL = "telegram"


async def _send_request_id(request: httpx.Request) -> None:
    """The gateway stores the id this adapter logs the message under (X-Request-ID)."""
    request.headers.update(request_id_headers())


class GatewayUnavailable(Exception):
    """Unreachable, timed out, 5xx, 429, or our token refused (401/403): worth retrying later."""


class GatewayRejected(Exception):
    """Any other 4xx: the gateway refused this request itself; retrying it cannot help."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"gateway refused with {status}: {detail}")
        self.status = status


class GatewayClient:
    def __init__(self, *, base_url: str, token: str, timeout: float) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            event_hooks={"request": [_send_request_id]},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, *, body: BaseModel | None = None, **kwargs: Any) -> Any:
        try:
            response = await self._http.request(
                method,
                path,
                content=body.model_dump_json() if body else None,
                headers={"Content-Type": "application/json", **kwargs.pop("headers", {})},
                **kwargs,
            )
        except httpx.HTTPError as exc:
            raise GatewayUnavailable(f"{method} {path}: {type(exc).__name__}") from exc
        if transient_status(response.status_code, credentials_are_transient=True):
            raise GatewayUnavailable(f"{method} {path}: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise GatewayRejected(response.status_code, response.text[:300])
        return response.json()

    async def post_message(
        self, *, chat_id: str, user_id: str, name: str | None, language: str | None, text: str, key: str
    ) -> MessageAccepted:
        message = MessageIn(
            channel=CHANNEL, chat_id=chat_id, user=UserIn(id=user_id, name=name, language=language), text=text
        )
        data = await self._call("POST", "/api/v1/messages", body=message, headers={"Idempotency-Key": key})
        return MessageAccepted.model_validate(data)

    async def feedback(self, *, task_id: str, rating: FeedbackRating) -> None:
        await self._call("POST", f"/api/v1/messages/{task_id}/feedback", body=FeedbackIn(rating=rating))

    async def reset(self, *, chat_id: str) -> int:
        data = await self._call(
            "POST", "/api/v1/conversations/reset", body=ConversationReset(channel=CHANNEL, chat_id=chat_id)
        )
        return ConversationResetOut.model_validate(data).closed

    async def channel_settings(self) -> ChannelSettings:
        return ChannelSettings.model_validate(await self._call("GET", "/api/v1/channel-settings"))
