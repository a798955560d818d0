"""Handing messages to the gateway durably; messages we cannot read get a polite reply."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import redis

from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.servers import wait_until
from parley_testkit.stack import Stack
from parley_testkit.wazzup_emulator import WazzupEmulator
from tests.support.fake_stt import FakeSpeechToText
from tests.support.whatsapp import Adapter, handed_over, new_chat, restart_gateway
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


@pytest.fixture
def speech_to_text() -> Iterator[FakeSpeechToText]:
    fake = FakeSpeechToText().start()
    yield fake
    fake.stop()


def test_a_voice_note_is_transcribed_and_answered_when_speech_to_text_is_configured(
    adapter: Adapter, emulator: WazzupEmulator, wa_fake_llm: FakeLLM, speech_to_text: FakeSpeechToText
) -> None:
    adapter.stop()
    adapter.env.update(STT_BASE_URL=speech_to_text.url, STT_API_KEY="stt-key", STT_MODEL="whisper-large-v3")
    adapter.start()
    voice = b"OggS" + bytes(range(256)) * 40
    speech_to_text.script(voice, "Do you deliver to Al Ain?")
    wa_fake_llm.add(Rule(when="Al Ain", answer="Yes, we deliver to Al Ain within 3 working days."))
    chat = new_chat()
    emulator.customer_writes(chat, type="audio", contentUri=emulator.host_media("voice-1.ogg", voice))
    [message] = emulator.wait_sent(chat)
    assert message["text"] == "Yes, we deliver to Al Ain within 3 working days."
    assert speech_to_text.requests == [
        {"model": "whisper-large-v3", "filename": "voice-1.ogg", "size": len(voice), "authorization": "Bearer stt-key"}
    ]

    speech_to_text.fail_with = 500  # a failing provider: the customer still hears from us
    other = new_chat()
    emulator.customer_writes(other, type="audio", contentUri=emulator.host_media("voice-2.ogg", voice))
    [apology] = emulator.wait_sent(other)
    assert apology["text"] == TEXTS.voice_text


def test_a_corrupt_queue_entry_does_not_block_the_messages_after_it(
    adapter: Adapter, emulator: WazzupEmulator, state: redis.Redis
) -> None:
    state.xadd(keys.INBOUND_STREAM, {"message": '{"messageId": "x", "chatId": '})
    state.xadd(keys.INBOUND_STREAM, {"unexpected": "field"})
    state.xadd(keys.REPLY_STREAM, {"task_id": "t-1", "event": "not json"})
    chat = new_chat()
    emulator.customer_writes(chat, "Is the Oasis chair available?")
    [message] = emulator.wait_sent(chat)
    assert message["text"]
    wait_until(lambda: handed_over(state), timeout=10, what="every inbound entry settled")
