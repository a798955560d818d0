"""Redis keys and streams only this adapter uses (the reply stream's name is in the contract)."""

from __future__ import annotations

from parley_contract.names import reply_stream

CHANNEL = "whatsapp"
REPLY_STREAM = reply_stream(CHANNEL)
CONSUMER_GROUP = "whatsapp-adapter"

#: Accepted webhook messages waiting to be handed to the gateway.
INBOUND_STREAM = "parley:wa:inbound"
INBOUND_STREAM_MAXLEN = 100_000
#: Deliveries Wazzup refused or that ran out of attempts: for operators (`python -m whatsapp_adapter failures`).
FAILED_STREAM = "parley:wa:failed-deliveries"
FAILED_STREAM_MAXLEN = 10_000

SEEN_PREFIX = "parley:wa:seen:"  # + Wazzup messageId of an accepted inbound message
OURS_PREFIX = "parley:wa:ours:"  # + Wazzup messageId of a message we sent
DELIVERED_PREFIX = "parley:wa:delivered:"  # + our delivery part id -> Wazzup messageId
CHAT_CHANNEL_PREFIX = "parley:wa:chat-channel:"  # + chatId -> the channelId the customer wrote to
