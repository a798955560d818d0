"""The webhook: a customer's text is answered once; echoes, statuses, duplicates and bad input are not."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from pydantic import ValidationError

from parley_testkit.servers import free_port, wait_until
from parley_testkit.wazzup_emulator import WazzupEmulator
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url
from tests.support.env_example import SHARED_ADAPTER_NAMES, env_example_names, expected_of, read_documented
from tests.support.whatsapp import WEBHOOK_SECRET, Adapter, inbound_entries, new_chat
from whatsapp_adapter import keys
from whatsapp_adapter.app import create_app
from whatsapp_adapter.settings import WhatsAppSettings

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
    log = adapter.log()
    assert "/wazzup/webhook/<secret>" in log and WEBHOOK_SECRET not in log and chat not in log


@pytest.mark.fault
def test_the_same_webhook_five_times_at_once_is_answered_once(
    adapter: Adapter, emulator: WazzupEmulator, state: redis.Redis
) -> None:
    """Wazzup retrying a webhook it thinks timed out: five deliveries of one message, concurrently."""
    chat = new_chat()
    message = emulator.inbound_message(chat, "What is your return policy?")
    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(lambda _: emulator.post_webhook({"messages": [message]}), range(5)))
    assert [r.status_code for r in responses] == [200] * 5
    assert sorted(r.json()["accepted"] for r in responses) == [0, 0, 0, 0, 1]
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


def test_our_own_sent_message_is_not_answered_even_without_the_echo_flag(
    adapter: Adapter, emulator: WazzupEmulator, state: redis.Redis
) -> None:
    chat = new_chat()
    emulator.customer_writes(chat, "Hello!")
    [ours] = emulator.wait_sent(chat)
    # Wazzup reporting our API send back as if it were inbound (the echo flag is UNCONFIRMED for API sends).
    disguised = emulator.inbound_message(chat, ours["text"], message_id=ours["messageId"])
    wait_until(lambda: state.exists(keys.OURS_PREFIX + ours["messageId"]) == 1, timeout=10, what="our send recorded")
    response = emulator.post_webhook({"messages": [disguised]})
    assert response.status_code == 200 and response.json()["accepted"] == 0
    answered_marker(emulator)
    assert emulator.sent_to(chat) == [ours]


def in_process_app(**overrides: Any) -> httpx.AsyncClient:
    """The adapter's ASGI app without its background loops (no lifespan): enough for the webhook's checks."""
    values: dict[str, Any] = {"webhook_secret": WEBHOOK_SECRET, "redis_url": redis_url(dbs.WHATSAPP_UNITS), **overrides}
    settings = WhatsAppSettings(_env_file=None, parley_env="test", **values)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings)), base_url="http://adapter")


def test_with_a_crm_key_the_bearer_header_is_required_too() -> None:
    redis.Redis.from_url(redis_url(dbs.WHATSAPP_UNITS)).flushdb()
    body = {"messages": [WazzupEmulator().inbound_message(new_chat(), "Hi")]}

    async def run() -> list[int]:
        async with in_process_app(wazzup_crm_key="crm-key-123") as client:
            path = f"/wazzup/webhook/{WEBHOOK_SECRET}"
            return [
                (await client.post(path, json=body)).status_code,
                (await client.post(path, json=body, headers={"Authorization": "Bearer wrong"})).status_code,
                (await client.post(path, json=body, headers={"Authorization": "Bearer crm-key-123"})).status_code,
            ]

    assert asyncio.run(run()) == [403, 403, 200]
    assert redis.Redis.from_url(redis_url(dbs.WHATSAPP_UNITS)).xlen(keys.INBOUND_STREAM) == 1


def test_redis_down_answers_503_so_wazzup_retries() -> None:
    body = {"messages": [WazzupEmulator().inbound_message(new_chat(), "Hi")]}

    async def run() -> int:
        async with in_process_app(redis_url=f"redis://127.0.0.1:{free_port()}/0") as client:
            return (await client.post(f"/wazzup/webhook/{WEBHOOK_SECRET}", json=body)).status_code

    assert asyncio.run(run()) == 503


def test_production_refuses_development_secrets() -> None:
    real: dict[str, Any] = {"webhook_secret": "x" * 32, "gateway_token": "real-token", "wazzup_api_key": "key"}
    WhatsAppSettings(_env_file=None, parley_env="production", **real)
    weak_values: list[dict[str, Any]] = [
        {"webhook_secret": "dev-webhook-secret"},
        {"webhook_secret": "short"},
        {"gateway_token": "dev-service-token"},
        {"wazzup_api_key": ""},
    ]
    for weak in weak_values:
        with pytest.raises(ValidationError):
            WhatsAppSettings(_env_file=None, parley_env="production", **{**real, **weak})


#: Each name `.env.example` documents for the adapter → (field, value written in .env, value held).
DOCUMENTED: dict[str, tuple[str, str, object]] = {
    "WHATSAPP_HOST": ("whatsapp_host", "127.0.0.2", "127.0.0.2"),
    "WHATSAPP_PORT": ("whatsapp_port", "18010", 18010),
    "WAZZUP_API_KEY": ("wazzup_api_key", "documented-key", "documented-key"),
    "WAZZUP_API_BASE": ("wazzup_api_base", "http://wazzup.local/v3", "http://wazzup.local/v3"),
    "WAZZUP_CHANNEL_ID": ("wazzup_channel_id", "channel-7", "channel-7"),
    "WAZZUP_CRM_KEY": ("wazzup_crm_key", "crm-7", "crm-7"),
    "WAZZUP_WEBHOOK_SECRET": ("webhook_secret", "documented-webhook-secret", "documented-webhook-secret"),
    "WAZZUP_PUBLIC_URL": ("public_url", "https://bot.example.com", "https://bot.example.com"),
    "WAZZUP_RATE_LIMIT_WINDOW_SECONDS": ("rate_limit_window_seconds", "7", 7.0),
    "WAZZUP_SEND_ATTEMPTS": ("send_attempts", "3", 3),
    "WAZZUP_SEND_TIMEOUT_SECONDS": ("send_timeout_seconds", "12", 12.0),
    "WAZZUP_CONSUMER_NAME": ("consumer_name", "whatsapp-7", "whatsapp-7"),
    **SHARED_ADAPTER_NAMES,
}


def test_the_names_env_example_documents_reach_the_settings_and_older_names_still_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert env_example_names("whatsapp_adapter", "channel adapters") <= set(DOCUMENTED)
    for name in [*DOCUMENTED, "WEBHOOK_SECRET", "PUBLIC_URL", "GATEWAY_TOKEN", "CONSUMER_NAME"]:
        monkeypatch.delenv(name, raising=False)
    env_file = tmp_path / ".env"
    assert read_documented(WhatsAppSettings, DOCUMENTED, env_file) == expected_of(DOCUMENTED)
    # `NAME=` lines as .env.example has them are "not set": the defaults apply.
    env_file.write_text("WAZZUP_WEBHOOK_SECRET=\nWAZZUP_CHANNEL_ID=\n")
    assert WhatsAppSettings(_env_file=env_file).wazzup_channel_id is None
    # The unprefixed names of older setups are still read; a documented name set as well wins.
    env_file.write_text("WAZZUP_PUBLIC_URL=https://documented.example.com\n")
    for name, value in {"WEBHOOK_SECRET": "old-secret", "PUBLIC_URL": "https://old", "GATEWAY_TOKEN": "old"}.items():
        monkeypatch.setenv(name, value)
    older = WhatsAppSettings(_env_file=env_file)
    assert (older.webhook_secret, older.public_url, older.gateway_token) == (
        "old-secret",
        "https://documented.example.com",
        "old",
    )


def test_a_lone_surrogate_in_a_customers_text_is_replaced_not_dropped(
    adapter: Adapter, emulator: WazzupEmulator
) -> None:
    """`\\ud800` in the webhook's JSON: the message is answered (the odd character as U+FFFD), not skipped."""
    chat = new_chat()
    _message_id, response = emulator.customer_writes(chat, "Do you deliver to Dubai? \ud800")
    assert response.status_code == 200 and response.json()["accepted"] == 1
    sent = emulator.wait_sent(chat)
    assert len(sent) == 1 and sent[0]["text"] == DEFAULT_ANSWER
