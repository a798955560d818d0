"""The callback dispatcher: POSTs due deliveries to partners, signed, and records each attempt.

Every gateway process runs one. It wakes when a task finishes in this process (`wake`) and
otherwise every `poll_interval_seconds`, claims as many due deliveries as it has free slots
(the claim is atomic across processes) and sends each in its own asyncio task, so a slow
receiver holds one slot, never the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from http import HTTPStatus

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.models import Tenant
from gateway.services.callbacks import ClaimedDelivery, claim_due, record_attempt
from gateway.services.safe_http import ALLOW_HINT, PinnedTransport, RefusedTarget, Resolver, system_resolve
from gateway.settings import GatewaySettings
from gateway.signing import sign
from parley_contract.runtime.loops import AsyncLoop

log = logging.getLogger(__name__)

#: Time beyond the request timeout before a claimed attempt whose process died is tried again.
LEASE_MARGIN_SECONDS = 30.0


def status_summary(status_code: int) -> str:
    """What an attempt answered with a non-2xx status records: the status and its standard phrase.
    Never the body (nor the receiver's own phrase): it may be an internal service's answer."""
    try:
        return f"HTTP {status_code} {HTTPStatus(status_code).phrase}"
    except ValueError:
        return f"HTTP {status_code}"


def transport_error(exc: httpx.HTTPError) -> str:
    """What a failed attempt records: the error's kind, and its text only for failures to connect
    (ours or the OS's); a protocol error's text can quote what the target sent."""
    if isinstance(exc, httpx.ConnectError | httpx.TimeoutException) and str(exc):
        return f"{type(exc).__name__}: {exc}"
    return type(exc).__name__


def event_body(payload: dict[str, object]) -> bytes:
    """The exact bytes POSTed (and signed) for a delivery's payload."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


class CallbackDispatcher:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        settings: GatewaySettings,
        concurrency: int = 16,
        user_agent: str = "Parley-Callbacks/1",
        resolver: Resolver = system_resolve,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._concurrency = concurrency
        self._in_flight: set[asyncio.Task[None]] = set()
        self._loop = AsyncLoop(
            self.dispatch_due, name="callback-dispatcher", interval_seconds=settings.callback_poll_interval_seconds
        )
        self._http = httpx.AsyncClient(
            transport=PinnedTransport(resolver=resolver, allow_private=settings.callback_allow_private_urls),
            timeout=settings.callback_timeout_seconds,
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": user_agent},
        )

    def start(self) -> None:
        self._loop.start()

    def wake(self) -> None:
        """Look for due deliveries now (a task has just finished)."""
        self._loop.wake()

    async def stop(self) -> None:
        await self._loop.stop()
        tasks = list(self._in_flight)
        for task in tasks:
            task.cancel()
        # An attempt cut short here is tried again when its lease ends.
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._http.aclose()

    async def dispatch_due(self) -> int:
        """Claim due deliveries for the free slots and start sending them; returns how many."""
        free = self._concurrency - len(self._in_flight)
        if free <= 0:
            return 0
        async with self._sessions() as session:
            claimed = await claim_due(
                session,
                limit=free,
                lease_seconds=self._settings.callback_timeout_seconds + LEASE_MARGIN_SECONDS,
            )
        for delivery in claimed:
            task = asyncio.create_task(self._attempt(delivery), name=f"callback-{delivery.id}")
            self._in_flight.add(task)
            task.add_done_callback(self._finished)
        return len(claimed)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        # A slot is free: due deliveries waiting for one need not wait for the next poll.
        self._loop.wake()

    async def _attempt(self, delivery: ClaimedDelivery) -> None:
        try:
            status_code, error = await self._post(delivery)
            async with self._sessions() as session:
                outcome = await record_attempt(
                    session,
                    claimed=delivery,
                    status_code=status_code,
                    error=error,
                    max_attempts=self._settings.callback_max_attempts,
                    backoff_base=self._settings.callback_backoff_seconds,
                    backoff_cap=self._settings.callback_backoff_max_seconds,
                )
        except Exception:
            # E.g. the database went away: the attempt is tried again when its lease ends.
            log.warning("callback %s attempt %d not recorded", delivery.id, delivery.attempt, exc_info=True)
            return
        log.info(
            "callback %s attempt %d: %s",
            delivery.id,
            delivery.attempt,
            outcome or "outcome not recorded (the lease had ended)",
            extra={"delivery_id": delivery.id, "status_code": status_code, "callback_error": error},
        )

    async def _post(self, delivery: ClaimedDelivery) -> tuple[int | None, str | None]:
        """Send one attempt; (status code, None) when the receiver took it, else the error."""
        async with self._sessions() as session:
            tenant = await session.get(Tenant, delivery.tenant_id)
        if tenant is None or not tenant.callback_secret:
            return None, "the tenant has no callback secret: set one (POST .../callback-secret), then redeliver"
        body = event_body(delivery.payload)
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-Parley-Event": str(delivery.payload.get("type", "")),
            "X-Parley-Delivery-Id": delivery.id,
            "X-Parley-Timestamp": str(timestamp),
            "X-Parley-Signature": sign(secret=tenant.callback_secret, timestamp=timestamp, body=body),
        }
        try:
            # Streamed so that the body, which only the status matters of, is never downloaded.
            async with self._http.stream("POST", delivery.url, content=body, headers=headers) as response:
                status_code = response.status_code
        except RefusedTarget as exc:
            # The transport refused before connecting: nothing was sent, nothing came back.
            return None, f"refused: {exc}; {ALLOW_HINT}"
        except httpx.HTTPError as exc:
            return None, transport_error(exc)
        if 200 <= status_code < 300:
            return status_code, None
        return status_code, status_summary(status_code)
