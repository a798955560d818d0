"""Accepting webhook messages: filter what we must not answer, de-duplicate, keep the rest in Redis."""

from __future__ import annotations

import logging

from redis.asyncio import Redis

from whatsapp_adapter import keys
from whatsapp_adapter.settings import WhatsAppSettings
from whatsapp_adapter.webhook_models import WazzupMessage

log = logging.getLogger(__name__)

# Remember the message id and queue the message in one step, so a crash cannot keep one without the other.
_ACCEPT_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'message', ARGV[2])
  if ARGV[3] ~= '' then redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[1]) end
  return 1
end
return 0
"""


def reason_to_ignore(message: WazzupMessage, settings: WhatsAppSettings) -> str | None:
    """Why this webhook message must not be answered, or None when it is a customer's message."""
    if message.is_echo:
        return "echo"
    if message.status not in (None, "inbound"):
        return f"outgoing ({message.status})"
    if message.chat_type not in (None, "whatsapp"):
        return f"chat type {message.chat_type}"
    if message.is_deleted or message.is_edited:
        return "edit or deletion"
    if settings.wazzup_channel_id and message.channel_id not in (None, settings.wazzup_channel_id):
        return "another channel"
    return None


class Inbox:
    def __init__(self, redis: Redis, settings: WhatsAppSettings) -> None:
        self._redis = redis
        self._settings = settings
        self._accept_once = redis.register_script(_ACCEPT_ONCE)

    async def accept(self, message: WazzupMessage) -> bool:
        """Queue the message for the gateway; False when it is ignored or a duplicate."""
        reason = reason_to_ignore(message, self._settings)
        if reason is None and await self._redis.exists(keys.OURS_PREFIX + message.message_id):
            reason = "sent by us"
        if reason is not None:
            log.info("webhook message %s ignored: %s", message.message_id, reason)
            return False
        accepted = await self._accept_once(
            keys=[
                keys.SEEN_PREFIX + message.message_id,
                keys.INBOUND_STREAM,
                keys.CHAT_CHANNEL_PREFIX + message.chat_id,
            ],
            args=[
                self._settings.remember_seconds,
                message.model_dump_json(by_alias=True, exclude_none=True),
                message.channel_id or "",
                keys.INBOUND_STREAM_MAXLEN,
            ],
        )
        if not accepted:
            log.info("webhook message %s dropped: duplicate", message.message_id)
        return bool(accepted)
