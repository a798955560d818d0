"""The adapter's ASGI app: the Wazzup webhook, plus the forwarder and the reply consumer as background tasks."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from parley_contract.runtime.streams import StreamConsumer
from whatsapp_adapter import keys
from whatsapp_adapter.delivery import Delivery
from whatsapp_adapter.forwarder import Forwarder
from whatsapp_adapter.gateway_client import GatewayClient
from whatsapp_adapter.inbox import Inbox
from whatsapp_adapter.replies import ReplyHandler
from whatsapp_adapter.settings import WhatsAppSettings
from whatsapp_adapter.transcriber import Transcriber
from whatsapp_adapter.wazzup_client import WazzupClient
from whatsapp_adapter.webhook_models import WazzupMessage, WebhookBody

log = logging.getLogger(__name__)


@dataclass
class Transports:
    """The network seams: None means the real network."""

    wazzup: httpx.AsyncBaseTransport | None = None
    gateway: httpx.AsyncBaseTransport | None = None
    speech_to_text: httpx.AsyncBaseTransport | None = None


def _authorized(request: Request, secret: str, settings: WhatsAppSettings) -> bool:
    if not hmac.compare_digest(secret.encode(), settings.webhook_secret.encode()):
        return False
    if settings.wazzup_crm_key:
        expected = f"Bearer {settings.wazzup_crm_key}".encode()
        return hmac.compare_digest(request.headers.get("authorization", "").encode(), expected)
    return True


class RedactSecret(logging.Filter):
    """Keeps the webhook secret (part of the URL path) out of the access log."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                arg.replace(self._secret, "<secret>") if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


async def _stop_consumers(
    consumers: list[StreamConsumer], tasks: list[asyncio.Task[None]], *, grace_seconds: float
) -> None:
    """A send or hand-over in flight gets `grace_seconds` to finish (and be acked); an idle consumer
    stops at once. What is cut stays pending in its stream and is redone after the restart, with the
    same crmMessageId / Idempotency-Key, so the customer still gets it once."""
    for consumer, task in zip(consumers, tasks, strict=True):
        consumer.stop()
        if not consumer.handling:
            task.cancel()
    _done, cut = await asyncio.wait(tasks, timeout=grace_seconds)
    for task in cut:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@dataclass
class _Clients:
    """The outbound clients the lifespan opens and closes."""

    wazzup: WazzupClient
    gateway: GatewayClient
    transcriber: Transcriber | None

    @classmethod
    def open(cls, settings: WhatsAppSettings, seams: Transports) -> _Clients:
        transcriber = Transcriber(settings, transport=seams.speech_to_text) if settings.stt_base_url else None
        return cls(
            wazzup=WazzupClient(settings, transport=seams.wazzup),
            gateway=GatewayClient(settings, transport=seams.gateway),
            transcriber=transcriber,
        )

    async def aclose(self) -> None:
        await self.wazzup.aclose()
        await self.gateway.aclose()
        if self.transcriber is not None:
            await self.transcriber.aclose()


def _consumers(redis: Redis, clients: _Clients, settings: WhatsAppSettings) -> list[StreamConsumer]:
    """The two stream consumers: customer messages to the gateway, replies to Wazzup."""
    delivery = Delivery(redis, clients.wazzup, settings)
    forwarder = Forwarder(clients.gateway, delivery, settings, transcriber=clients.transcriber)
    handlers = {keys.INBOUND_STREAM: forwarder.handle, keys.REPLY_STREAM: ReplyHandler(delivery, settings).handle}
    return [
        StreamConsumer(
            redis,
            stream=stream,
            group=keys.CONSUMER_GROUP,
            consumer=settings.consumer_name,
            handle=handle,
            claim_idle_ms=int(settings.reclaim_idle_seconds * 1000),
        )
        for stream, handle in handlers.items()
    ]


def _lifespan(
    redis: Redis, settings: WhatsAppSettings, seams: Transports
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        clients = _Clients.open(settings, seams)
        consumers = _consumers(redis, clients, settings)
        tasks = [asyncio.create_task(consumer.run(), name=consumer.stream) for consumer in consumers]
        redact = RedactSecret(settings.webhook_secret)
        access_log = logging.getLogger("uvicorn.access")
        access_log.addFilter(redact)
        try:
            yield
        finally:
            access_log.removeFilter(redact)
            await _stop_consumers(consumers, tasks, grace_seconds=settings.shutdown_timeout_seconds)
            await clients.aclose()
            await redis.aclose()

    return lifespan


async def _accept_messages(inbox: Inbox, body: WebhookBody) -> int:
    """Keep each valid customer message in the inbox; how many were new. Raises RedisError."""
    accepted = 0
    for item in body.messages:
        try:
            message = WazzupMessage.model_validate(item)
        except ValidationError as exc:
            log.warning("webhook message skipped: %d invalid fields", exc.error_count())
            continue
        accepted += int(await inbox.accept(message))
    return accepted


def _log_notices(body: WebhookBody) -> None:
    """What else a webhook may carry: Parley only logs it."""
    for status in body.statuses:
        if status.get("status") == "error":
            log.warning("Wazzup reports message %s failed: %s", status.get("messageId"), status.get("error"))
    for update in body.channels_updates:
        log.info("channel %s is now %s", update.get("channelId"), update.get("state"))
    if body.create_contact is not None or body.create_deal is not None:
        log.info("contact/deal creation webhook received; Parley keeps no CRM records")


def create_app(settings: WhatsAppSettings, *, transports: Transports | None = None) -> FastAPI:
    redis = Redis.from_url(settings.redis_url, decode_responses=True)
    inbox = Inbox(redis, settings)
    app = FastAPI(
        title="Parley WhatsApp adapter",
        lifespan=_lifespan(redis, settings, transports or Transports()),
        docs_url=None,
        redoc_url=None,
    )

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/wazzup/webhook/{secret}")
    async def wazzup_webhook(secret: str, request: Request) -> JSONResponse:
        """Acknowledge at once; customer messages are kept in Redis and handed to the gateway afterwards."""
        if not _authorized(request, secret, settings):
            return _problem(403, "forbidden")
        try:
            raw = json.loads(await request.body())
            body = WebhookBody.model_validate(raw)
        except (ValueError, ValidationError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            return _problem(400, "the body is not a Wazzup webhook JSON object")
        if body.test:
            return JSONResponse({"ok": True})
        try:
            accepted = await _accept_messages(inbox, body)
        except RedisError:
            log.exception("webhook not stored: Redis unavailable")
            return _problem(503, "temporarily unavailable")
        _log_notices(body)
        return JSONResponse({"ok": True, "accepted": accepted})

    return app
