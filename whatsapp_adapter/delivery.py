"""Sending a text to a customer exactly once: stable crmMessageIds, progress kept in Redis."""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from whatsapp_adapter import keys
from whatsapp_adapter.formatting import split_message, to_whatsapp
from whatsapp_adapter.settings import WhatsAppSettings
from whatsapp_adapter.wazzup_client import WazzupClient, WazzupError

log = logging.getLogger(__name__)


class NoChannel(Exception):
    """No Wazzup channel to send from: none configured, remembered or active."""


class Delivery:
    def __init__(self, redis: Redis, wazzup: WazzupClient, settings: WhatsAppSettings) -> None:
        self._redis = redis
        self._wazzup = wazzup
        self._settings = settings
        self._discovered_channel: str | None = None

    async def channel_for(self, chat_id: str) -> str:
        """The channel the customer wrote to, else the configured one, else the first active WhatsApp channel."""
        remembered = await self._redis.get(keys.CHAT_CHANNEL_PREFIX + chat_id)
        if remembered:
            return str(remembered)
        if self._settings.wazzup_channel_id:
            return self._settings.wazzup_channel_id
        if self._discovered_channel is None:
            channels = await self._wazzup.list_channels()
            active = [c for c in channels if c.get("transport") == "whatsapp" and c.get("state") == "active"]
            if not active:
                raise NoChannel("no active WhatsApp channel in GET /v3/channels; set WAZZUP_CHANNEL_ID")
            self._discovered_channel = str(active[0]["channelId"])
        return self._discovered_channel

    async def send(self, *, delivery_id: str, chat_id: str, text: str) -> None:
        """Format, split and send; each part once (already-sent parts are skipped after a restart).

        Raises WazzupError (refused, or attempts exhausted) or NoChannel; the caller records the failure.
        """
        channel_id = await self.channel_for(chat_id)
        parts = split_message(to_whatsapp(text) or text.strip(), self._settings.max_message_chars)
        for index, part in enumerate(parts):
            part_id = f"{delivery_id}-{index}"
            done_key = keys.DELIVERED_PREFIX + part_id
            if await self._redis.exists(done_key):
                continue
            result = await self._wazzup.send_text(
                channel_id=channel_id, chat_id=chat_id, text=part, crm_message_id=part_id
            )
            ttl = self._settings.remember_seconds
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(done_key, result.message_id or "already-sent", ex=ttl)
                if result.message_id:
                    pipe.set(keys.OURS_PREFIX + result.message_id, part_id, ex=ttl)
                await pipe.execute()
            repeat = " (Wazzup already had it)" if result.already_sent else ""
            log.info("delivered %s part %d/%d%s", delivery_id, index + 1, len(parts), repeat)

    async def record_failure(self, *, delivery_id: str, error: Exception) -> None:
        fields: dict[FieldT, EncodableT] = {"delivery_id": delivery_id, "error": str(error)}
        if isinstance(error, WazzupError):
            fields.update(status=str(error.status or ""), code=error.code, description=error.description)
        log.error("delivery %s failed: %s", delivery_id, error)
        await self._redis.xadd(keys.FAILED_STREAM, fields, maxlen=keys.FAILED_STREAM_MAXLEN, approximate=True)
