"""Delivering the gateway's reply events (done or failed tasks) to the customers."""

from __future__ import annotations

import logging

from pydantic import ValidationError

from parley_contract.logging import bound_request_id
from parley_contract.schemas import ReplyEvent, TaskStatus
from whatsapp_adapter.delivery import Delivery, NoChannel
from whatsapp_adapter.settings import WhatsAppSettings
from whatsapp_adapter.wazzup_client import WazzupError

log = logging.getLogger(__name__)


class ReplyHandler:
    def __init__(self, delivery: Delivery, settings: WhatsAppSettings) -> None:
        self._delivery = delivery
        self._settings = settings

    def text_for(self, event: ReplyEvent) -> str:
        if event.status == TaskStatus.done and event.answer and event.answer.strip():
            return event.answer
        return self._settings.apology_text

    async def handle(self, entry_id: str, fields: dict[str, str]) -> None:
        try:
            event = ReplyEvent.model_validate_json(fields.get("event", ""))
        except ValidationError:
            log.error("reply entry %s is not a reply event; dropped", entry_id)
            return
        delivery_id = f"task-{event.task_id}"
        with bound_request_id(event.request_id):
            try:
                await self._delivery.send(delivery_id=delivery_id, chat_id=event.chat_id, text=self.text_for(event))
            except (WazzupError, NoChannel) as exc:
                await self._delivery.record_failure(delivery_id=delivery_id, error=exc)
