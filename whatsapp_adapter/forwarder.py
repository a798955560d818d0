"""Handing queued webhook messages to the gateway; non-text messages get a polite reply instead."""

from __future__ import annotations

import logging

from pydantic import ValidationError
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from parley_contract.logging import bound_request_id, new_request_id
from parley_contract.schemas import MessageIn, UserIn
from whatsapp_adapter.delivery import Delivery, NoChannel
from whatsapp_adapter.gateway_client import GatewayClient, GatewayRefused, GatewayUnavailable
from whatsapp_adapter.keys import CHANNEL
from whatsapp_adapter.settings import WhatsAppSettings
from whatsapp_adapter.transcriber import Transcriber, TranscriptionFailed
from whatsapp_adapter.wazzup_client import WazzupError
from whatsapp_adapter.webhook_models import WazzupMessage

log = logging.getLogger(__name__)


class Forwarder:
    def __init__(
        self,
        gateway: GatewayClient,
        delivery: Delivery,
        settings: WhatsAppSettings,
        *,
        transcriber: Transcriber | None = None,
    ) -> None:
        self._gateway = gateway
        self._delivery = delivery
        self._settings = settings
        self._transcriber = transcriber

    async def _text_of(self, message: WazzupMessage) -> str | None:
        """What the customer said, or None when we cannot read this kind of message."""
        if message.type == "text" and message.text and message.text.strip():
            return message.text
        if message.type == "audio" and message.content_uri and self._transcriber is not None:
            try:
                return await self._transcriber.transcribe(message.content_uri)
            except TranscriptionFailed as exc:
                log.warning("voice message %s not transcribed: %s", message.message_id, exc)
        return None

    async def handle(self, entry_id: str, fields: dict[str, str]) -> None:
        with bound_request_id(new_request_id()):  # sent to the gateway as X-Request-ID
            await self._handle(entry_id, fields)

    async def _handle(self, entry_id: str, fields: dict[str, str]) -> None:
        try:
            message = WazzupMessage.model_validate_json(fields.get("message", ""))
        except ValidationError:
            log.error("inbound entry %s is not a Wazzup message; dropped", entry_id)
            return
        text = await self._text_of(message)
        if text is None:
            notice = self._settings.voice_text if message.type == "audio" else self._settings.media_text
            await self._notify(message, notice)
            return
        name = message.contact.name[:200] if message.contact and message.contact.name else None
        try:
            inbound = MessageIn(
                channel=CHANNEL, chat_id=message.chat_id, user=UserIn(id=message.chat_id, name=name), text=text
            )
        except ValidationError:
            log.error("message %s does not fit the gateway's message schema", message.message_id)
            await self._notify(message, self._settings.unreadable_text)
            return
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(GatewayUnavailable),
                wait=wait_exponential(multiplier=0.5, max=self._settings.forward_retry_max_seconds),
                before_sleep=lambda state: log.warning(
                    "message %s not handed over yet (%s); retrying",
                    message.message_id,
                    state.outcome and state.outcome.exception(),
                ),
            ):
                with attempt:
                    accepted = await self._gateway.post_message(inbound, idempotency_key=f"wazzup:{message.message_id}")
        except GatewayRefused as exc:
            log.error("message %s refused by the gateway: %s", message.message_id, exc)
            await self._notify(message, self._settings.unreadable_text)
            return
        log.info("message %s handed over as task %s", message.message_id, accepted.task_id)

    async def _notify(self, message: WazzupMessage, text: str) -> None:
        delivery_id = f"notice-{message.message_id}"
        try:
            await self._delivery.send(delivery_id=delivery_id, chat_id=message.chat_id, text=text)
        except (WazzupError, NoChannel) as exc:
            await self._delivery.record_failure(delivery_id=delivery_id, error=exc)
