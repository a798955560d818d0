"""The webhook: a customer's text is answered once; echoes, statuses, duplicates and bad input are not."""

from __future__ import annotations

import json

import httpx
import redis

from tests.support.wazzup_emulator import WazzupEmulator
from tests.whatsapp_adapter.conftest import WEBHOOK_SECRET, Adapter, inbound_entries, new_chat

DEFAULT_ANSWER = "Thank you for your message! A colleague will follow up shortly."


def answered_marker(emulator: WazzupEmulator) -> None:
    """A later, normal message answered: everything the adapter queued before it has been handled."""
    marker = new_chat()
    emulator.customer_writes(marker, "Are you open on Friday?")
    emulator.wait_sent(marker)


def test_an_inbound_text_gets_exactly_one_answer(adapter: Adapter, emulator: WazzupEmulator) -> None:
    chat = new_chat()
    _message_id, response = emulator.customer_writes(chat, "Do you deliver to Dubai?")
    assert response.status_code == 200
    sent = emulator.wait_sent(chat)
    answered_marker(emulator)
    assert emulator.sent_to(chat) == sent and len(sent) == 1
    assert sent[0]["channelId"] == emulator.whatsapp_channel_id
    assert sent[0]["chatType"] == "whatsapp" and sent[0]["chatId"] == chat
    assert sent[0]["text"] == DEFAULT_ANSWER
    # The echo Wazzup sent back for our own message was acknowledged and not answered.
    assert all(status == 200 for status in emulator.webhook_responses)


def test_the_same_webhook_five_times_is_answered_once(
    adapter: Adapter, emulator: WazzupEmulator, state: redis.Redis
) -> None:
    chat = new_chat()
    message = emulator.inbound_message(chat, "What is your return policy?")
    responses = [emulator.post_webhook({"messages": [message]}) for _ in range(5)]
    assert [r.status_code for r in responses] == [200] * 5
    assert [r.json()["accepted"] for r in responses] == [1, 0, 0, 0, 0]
    emulator.wait_sent(chat)
    answered_marker(emulator)
    assert len(emulator.sent_to(chat)) == 1
    assert [m["messageId"] for m in inbound_entries(state)].count(message["messageId"]) == 1


def test_echoes_and_status_bodies_are_never_answered(
    adapter: Adapter, emulator: WazzupEmulator, state: redis.Redis
) -> None:
    chat = new_chat()
    echo = {**emulator.inbound_message(chat, "Sent from the phone"), "isEcho": True, "status": "sent"}
    statuses = {"statuses": [{"messageId": echo["messageId"], "timestamp": echo["dateTime"], "status": "read"}]}
    channel = {"channelsUpdates": [{"channelId": emulator.whatsapp_channel_id, "state": "active"}]}
    contact = {"createContact": {"responsibleUserId": "1", "name": "Alex", "contactData": [{"chatType": "whatsapp"}]}}
    for body in ({"messages": [echo]}, statuses, channel, contact):
        response = emulator.post_webhook(body)
        assert response.status_code == 200 and response.json()["accepted"] == 0
    answered_marker(emulator)
    assert emulator.sent_to(chat) == []
    assert chat not in [m["chatId"] for m in inbound_entries(state)]


def test_the_registration_ping_is_answered_200(adapter: Adapter) -> None:
    response = httpx.post(adapter.webhook_url, json={"test": True}, timeout=10)
    assert response.status_code == 200


def test_a_wrong_secret_is_rejected_and_nothing_is_queued(
    adapter: Adapter, emulator: WazzupEmulator, state: redis.Redis
) -> None:
    chat = new_chat()
    body = {"messages": [emulator.inbound_message(chat, "Hello?")]}
    for uri in (
        f"{adapter.url}/wazzup/webhook/wrong-secret",
        f"{adapter.url}/wazzup/webhook/{WEBHOOK_SECRET}x",
        f"{adapter.url}/wazzup/webhook/{WEBHOOK_SECRET[:-1]}",
    ):
        assert emulator.post_webhook(body, uri=uri).status_code == 403
    answered_marker(emulator)
    assert emulator.sent_to(chat) == []
    assert chat not in [m["chatId"] for m in inbound_entries(state)]


def test_malformed_bodies_are_400_and_the_adapter_keeps_working(adapter: Adapter, emulator: WazzupEmulator) -> None:
    good = emulator.inbound_message(new_chat(), "Hello")
    whole = json.dumps({"messages": [good]}).encode()
    for raw in (whole[: len(whole) // 2], b"{not json", b"", b"\xff\xfe\x00", b"[1, 2]", b'"text"', b'{"messages": 5}'):
        response = emulator.post_webhook(None, raw=raw)
        assert response.status_code == 400, (raw, response.text)
    # A message with fields of the wrong kind is skipped, the body still acknowledged.
    skipped = emulator.post_webhook({"messages": [{"messageId": 7}, {"chatId": None}]})
    assert skipped.status_code == 200 and skipped.json()["accepted"] == 0
    assert adapter.alive()
    answered_marker(emulator)
