"""Wazzup24 API v3 client: send a message safely, manage the webhook, list channels."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt, wait_exponential

from whatsapp_adapter.settings import WhatsAppSettings

log = logging.getLogger(__name__)


def normalize_code(code: object) -> str:
    """`REPEATED_CRM_MESSAGE_ID` and `repeatedCrmMessageId` are the same code in Wazzup's docs."""
    return str(code or "").replace("_", "").replace("-", "").lower()


REPEATED_CRM_MESSAGE_ID = normalize_code("REPEATED_CRM_MESSAGE_ID")


@dataclass(frozen=True)
class SendResult:
    #: Wazzup's id of the sent message; None when Wazzup said it already had this crmMessageId.
    message_id: str | None
    already_sent: bool = False


class WazzupError(Exception):
    """A call to Wazzup that did not succeed."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "", description: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.description = description


class WazzupRejected(WazzupError):
    """Wazzup refused the request (4xx other than 429): retrying the same request cannot help."""


class WazzupUnavailable(WazzupError):
    """5xx, timeouts, connection errors or a rate limit that did not clear within our attempts."""


class _RateLimited(WazzupUnavailable):
    def __init__(self, retry_after: float | None) -> None:
        super().__init__("429 Too Many Requests", status=429)
        self.retry_after = retry_after


def _error_fields(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:200]
    if not isinstance(body, dict):
        return "", str(body)[:200]
    return str(body.get("error") or body.get("code") or ""), str(body.get("description") or body.get("message") or "")


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


class WazzupClient:
    def __init__(self, settings: WhatsAppSettings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._settings = settings
        self._http = httpx.AsyncClient(
            base_url=settings.wazzup_api_base.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {settings.wazzup_api_key}"},
            timeout=settings.send_timeout_seconds,
            transport=transport,
        )
        backoff = settings.retry_backoff_seconds
        self._backoff = wait_exponential(multiplier=backoff, max=8 * backoff)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, *, json: Any = None) -> httpx.Response:
        try:
            response = await self._http.request(method, path, json=json)
        except httpx.TimeoutException as exc:
            raise WazzupUnavailable(f"{method} {path}: timed out") from exc
        except httpx.TransportError as exc:
            raise WazzupUnavailable(f"{method} {path}: {type(exc).__name__}") from exc
        if response.status_code == 429:
            raise _RateLimited(_retry_after(response))
        if response.status_code >= 500:
            code, description = _error_fields(response)
            raise WazzupUnavailable(
                f"{method} {path}: HTTP {response.status_code}",
                status=response.status_code,
                code=code,
                description=description,
            )
        return response

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _RateLimited):
            return error.retry_after if error.retry_after is not None else self._settings.rate_limit_window_seconds
        return float(self._backoff(state))

    def _should_stop(self, state: RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome else None
        limit = self._settings.rate_limit_attempts if isinstance(error, _RateLimited) else self._settings.send_attempts
        return bool(stop_after_attempt(limit)(state))

    async def send_text(self, *, channel_id: str, chat_id: str, text: str, crm_message_id: str) -> SendResult:
        """POST /v3/message; retried on 429 (after the window) and on 5xx/timeouts with the same crmMessageId.

        Raises WazzupRejected for a refusal and WazzupUnavailable when the attempts ran out.
        """
        body = {
            "channelId": channel_id,
            "chatType": "whatsapp",
            "chatId": chat_id,
            "text": text,
            "crmMessageId": crm_message_id,
        }
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(WazzupUnavailable),
            wait=self._wait,
            stop=self._should_stop,
            reraise=True,
            before_sleep=lambda state: log.warning(
                "send %s attempt %d failed: %s",
                crm_message_id,
                state.attempt_number,
                state.outcome and state.outcome.exception(),
            ),
        ):
            with attempt:
                response = await self._request("POST", "message", json=body)
        if response.status_code in (200, 201):
            payload = response.json() if response.content else {}
            message_id = payload.get("messageId") if isinstance(payload, dict) else None
            return SendResult(message_id=str(message_id) if message_id else None)
        code, description = _error_fields(response)
        if response.status_code == 400 and normalize_code(code) == REPEATED_CRM_MESSAGE_ID:
            return SendResult(message_id=None, already_sent=True)
        raise WazzupRejected(
            f"POST message: HTTP {response.status_code} {code}".strip(),
            status=response.status_code,
            code=code,
            description=description,
        )

    async def _json(self, method: str, path: str, *, json: Any = None) -> Any:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(WazzupUnavailable), wait=self._wait, stop=self._should_stop, reraise=True
        ):
            with attempt:
                response = await self._request(method, path, json=json)
        if response.status_code >= 400:
            code, description = _error_fields(response)
            raise WazzupRejected(
                f"{method} {path}: HTTP {response.status_code} {code} {description}".strip(),
                status=response.status_code,
                code=code,
                description=description,
            )
        return response.json() if response.content else None

    async def list_channels(self) -> list[dict[str, Any]]:
        channels = await self._json("GET", "channels")
        return [c for c in channels if isinstance(c, dict)] if isinstance(channels, list) else []

    async def get_webhook(self) -> dict[str, Any]:
        found = await self._json("GET", "webhooks")
        return found if isinstance(found, dict) else {}

    async def register_webhook(
        self, url: str, *, contacts_and_deals: bool = False, channel_updates: bool = True
    ) -> Any:
        """PATCH /v3/webhooks; Wazzup posts {"test": true} to the URL and fails the call unless it gets 200."""
        return await self._json(
            "PATCH",
            "webhooks",
            json={
                "webhooksUri": url,
                "subscriptions": {
                    "messagesAndStatuses": True,
                    "contactsAndDealsCreation": contacts_and_deals,
                    "channelsUpdates": channel_updates,
                    "templateStatus": False,
                },
            },
        )
