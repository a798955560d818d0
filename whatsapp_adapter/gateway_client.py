"""The adapter's side of the gateway's public API: POST /api/v1/messages with an idempotency key."""

from __future__ import annotations

import httpx

from parley_contract.logging import request_id_headers
from parley_contract.runtime.retry import transient_status
from parley_contract.schemas import MessageAccepted, MessageIn
from whatsapp_adapter.settings import WhatsAppSettings


async def _send_request_id(request: httpx.Request) -> None:
    """The gateway stores the id this adapter logs the message under (X-Request-ID)."""
    request.headers.update(request_id_headers())


class GatewayUnavailable(Exception):
    """The gateway could not take the message now (down, 5xx, 429, misconfigured token): try again later."""


class GatewayRefused(Exception):
    """The gateway refused this message for good (a 4xx other than 401/403/408/425/429): retrying cannot help."""


class GatewayClient:
    def __init__(self, settings: WhatsAppSettings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = httpx.AsyncClient(
            base_url=settings.gateway_url,
            headers={"Authorization": f"Bearer {settings.gateway_token}"},
            timeout=15.0,
            transport=transport,
            event_hooks={"request": [_send_request_id]},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def post_message(self, message: MessageIn, *, idempotency_key: str) -> MessageAccepted:
        try:
            response = await self._http.post(
                "/api/v1/messages",
                content=message.model_dump_json(exclude_none=True),
                headers={"Idempotency-Key": idempotency_key, "Content-Type": "application/json"},
            )
        except httpx.TransportError as exc:
            raise GatewayUnavailable(f"gateway unreachable: {type(exc).__name__}") from exc
        if response.status_code == 202:
            return MessageAccepted.model_validate_json(response.content)
        if transient_status(response.status_code, credentials_are_transient=True):
            # 401/403 (a wrong token) too: fixing the configuration must not lose messages.
            raise GatewayUnavailable(f"gateway answered HTTP {response.status_code}")
        raise GatewayRefused(f"gateway refused the message: HTTP {response.status_code} {response.text[:300]}")
