"""Handing queued webhook messages to the gateway; non-text messages get a polite reply instead."""

from __future__ import annotations

import logging

from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from parley_contract.schemas import MessageIn, UserIn
from whatsapp_adapter.delivery import Delivery, NoChannel
from whatsapp_adapter.gateway_client import GatewayClient, GatewayRefused, GatewayUnavailable
from whatsapp_adapter.keys import CHANNEL
from whatsapp_adapter.settings import WhatsAppSettings
from whatsapp_adapter.wazzup_client import WazzupError
from whatsapp_adapter.webhook_models import WazzupMessage

log = logging.getLogger(__name__)


class Forwarder:
    def __init__(self, gateway: GatewayClient, delivery: Delivery, settings: WhatsAppSettings) -> None:
        self._gateway = gateway
        self._delivery = delivery
        self._settings = settings

    def _notice_for(self, message: WazzupMessage) -> str | None:
        """The polite reply for a message we cannot read, or None for a text to forward."""
        if message.type == "text" and message.text and message.text.strip():
            return None
        if message.type == "audio":
            return self._settings.voice_text
        return self._settings.media_text

    async def handle(self, _entry_id: str, fields: dict[str, str]) -> None:
        message = WazzupMessage.model_validate_json(fields["message"])
        notice = self._notice_for(message)
        if notice is not None:
            await self._notify(message, notice)
            return
        assert message.text is not None
        name = message.contact.name[:200] if message.contact and message.contact.name else None
        inbound = MessageIn(
            channel=CHANNEL, chat_id=message.chat_id, user=UserIn(id=message.chat_id, name=name), text=message.text
        )
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
