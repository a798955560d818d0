"""Handing messages to the gateway durably; messages we cannot read get a polite reply."""

from __future__ import annotations

import httpx
import pytest
import redis

from tests.support.servers import wait_until
from tests.support.stack import Stack
from tests.support.wazzup_emulator import WazzupEmulator
from tests.whatsapp_adapter.conftest import Adapter, handed_over, new_chat, restart_gateway
from whatsapp_adapter import keys
from whatsapp_adapter.settings import WhatsAppSettings

TEXTS = WhatsAppSettings(_env_file=None)


def test_a_gateway_outage_loses_nothing(
    adapter: Adapter, emulator: WazzupEmulator, wa_stack: Stack, state: redis.Redis
) -> None:
    wa_stack.gateway.stop()
    try:
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{wa_stack.url}/health", timeout=2)
        chat = new_chat()
        _id, response = emulator.customer_writes(chat, "Do you deliver to Sharjah?")
        assert response.status_code == 200 and response.json()["accepted"] == 1
        # The adapter keeps trying: the message stays pending in its stream, nothing is sent meanwhile.
        wait_until(
            lambda: int(state.xpending(keys.INBOUND_STREAM, keys.CONSUMER_GROUP)["pending"]) == 1,
            timeout=30,
            what="the message read and still pending",
        )
        wait_until(lambda: "not handed over yet" in adapter.log(), timeout=30, what="a failed hand-over logged")
        assert emulator.sent_to(chat) == [] and not handed_over(state)
    finally:
        restart_gateway(wa_stack)
    [message] = emulator.wait_sent(chat)
    assert message["text"] and handed_over(state)


@pytest.mark.parametrize(
    ("kind", "extra", "expected"),
    [
        ("audio", {"contentUri": "https://store.wazzup24.com/voice.ogg"}, TEXTS.voice_text),
        ("image", {"contentUri": "https://store.wazzup24.com/photo.jpg"}, TEXTS.media_text),
        ("document", {"contentUri": "https://store.wazzup24.com/invoice.pdf"}, TEXTS.media_text),
        ("geo", {"text": "25.2048,55.2708"}, TEXTS.media_text),
        ("vcard", {"text": "BEGIN:VCARD\nFN:Sam\nEND:VCARD"}, TEXTS.media_text),
        ("unsupported", {}, TEXTS.media_text),
    ],
)
def test_messages_we_cannot_read_get_a_polite_reply(
    adapter: Adapter, emulator: WazzupEmulator, wa_stack: Stack, kind: str, extra: dict[str, str], expected: str
) -> None:
    chat = new_chat()
    _id, response = emulator.customer_writes(chat, type=kind, **extra)
    assert response.status_code == 200
    [message] = emulator.wait_sent(chat)
    assert message["text"] == expected
    assert message["crmMessageId"].startswith("notice-")


def test_a_text_the_gateway_refuses_gets_a_polite_reply(adapter: Adapter, emulator: WazzupEmulator) -> None:
    chat = new_chat()
    emulator.customer_writes(chat, "Please read this. " * 400)  # over the gateway's 4096 characters: 422
    [message] = emulator.wait_sent(chat)
    assert message["text"] == TEXTS.unreadable_text
    wait_until(lambda: "refused by the gateway" in adapter.log(), timeout=10, what="the refusal logged")
