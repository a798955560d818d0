"""The Wazzup client against the emulator: success, safe retries, refusals, webhook and channels."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from parley_testkit.servers import wait_until
from parley_testkit.wazzup_emulator import WazzupEmulator
from whatsapp_adapter.settings import WhatsAppSettings
from whatsapp_adapter.wazzup_client import (
    SendResult,
    WazzupClient,
    WazzupRejected,
    WazzupUnavailable,
    normalize_code,
)


@pytest.fixture
def emulator() -> Iterator[WazzupEmulator]:
    emulator = WazzupEmulator(echo_api_sends=False).start()
    yield emulator
    emulator.stop()


def settings_for(emulator: WazzupEmulator, **overrides: Any) -> WhatsAppSettings:
    values: dict[str, Any] = {
        "wazzup_api_key": emulator.api_key,
        "wazzup_api_base": emulator.url,
        "rate_limit_window_seconds": 0.3,
        "retry_backoff_seconds": 0.05,
        "send_attempts": 3,
    }
    return WhatsAppSettings(_env_file=None, parley_env="test", **{**values, **overrides})


def send(
    emulator: WazzupEmulator, text: str = "Hello", crm_message_id: str = "task-1-0", **overrides: Any
) -> SendResult:
    async def run() -> SendResult:
        client = WazzupClient(settings_for(emulator, **overrides))
        try:
            return await client.send_text(
                channel_id=emulator.whatsapp_channel_id,
                chat_id="971501234567",
                text=text,
                crm_message_id=crm_message_id,
            )
        finally:
            await client.aclose()

    return asyncio.run(run())


def test_a_send_is_201_with_wazzups_message_id(emulator: WazzupEmulator) -> None:
    result = send(emulator)
    assert result.message_id == emulator.sent[0]["messageId"] and not result.already_sent
    assert emulator.sent[0] == {
        "channelId": emulator.whatsapp_channel_id,
        "chatType": "whatsapp",
        "chatId": "971501234567",
        "text": "Hello",
        "crmMessageId": "task-1-0",
        "messageId": result.message_id,
    }


def test_a_repeated_crm_message_id_counts_as_already_sent(emulator: WazzupEmulator) -> None:
    send(emulator)
    again = send(emulator)
    assert again.already_sent and again.message_id is None
    assert len(emulator.sent) == 1
    assert [a.status for a in emulator.attempts] == [201, 400]


def test_error_codes_compare_across_spellings() -> None:
    assert normalize_code("repeatedCrmMessageId") == normalize_code("REPEATED_CRM_MESSAGE_ID")


def test_429_waits_for_the_window_then_sends_once(emulator: WazzupEmulator) -> None:
    emulator.rate_limit_for(0.5)
    result = send(emulator)
    statuses = [a.status for a in emulator.attempts]
    assert statuses[0] == 429 and statuses[-1] == 201 and set(statuses) == {429, 201}
    assert len(emulator.sent) == 1 and result.message_id == emulator.sent[0]["messageId"]


def test_a_500_after_sending_is_retried_with_the_same_crm_message_id(emulator: WazzupEmulator) -> None:
    emulator.fail_next(500, store_first=True)
    result = send(emulator)
    assert [a.status for a in emulator.attempts] == [500, 400]
    assert {a.body["crmMessageId"] for a in emulator.attempts} == {"task-1-0"}
    assert result.already_sent and len(emulator.sent) == 1


def test_a_503_before_sending_is_retried_and_sent(emulator: WazzupEmulator) -> None:
    emulator.fail_next(503, times=2)
    result = send(emulator)
    assert [a.status for a in emulator.attempts] == [503, 503, 201]
    assert result.message_id == emulator.sent[0]["messageId"]


def test_5xx_attempts_are_bounded(emulator: WazzupEmulator) -> None:
    emulator.fail_next(502, times=10)
    with pytest.raises(WazzupUnavailable):
        send(emulator)
    assert len(emulator.attempts) == 3 and not emulator.sent


@pytest.mark.parametrize(
    ("text", "overrides", "code", "status"),
    [
        ("x" * 10_001, {}, "MESSAGE_TEXT_TOO_LONG", 400),
        ("Hello", {"wazzup_api_key": "wrong"}, "", 401),
    ],
)
def test_refusals_are_not_retried(
    emulator: WazzupEmulator, text: str, overrides: dict[str, Any], code: str, status: int
) -> None:
    with pytest.raises(WazzupRejected) as refused:
        send(emulator, text=text, **overrides)
    assert refused.value.status == status and refused.value.code == code
    assert len(emulator.attempts) == (1 if status == 400 else 0) and not emulator.sent


def test_a_timeout_is_retried_with_the_same_crm_message_id(emulator: WazzupEmulator) -> None:
    release = emulator.hold_next_send()

    async def run() -> SendResult:
        client = WazzupClient(settings_for(emulator, send_timeout_seconds=0.5))
        try:
            # The first request hangs until released: the client gives up on it and tries again.
            return await client.send_text(
                channel_id=emulator.whatsapp_channel_id, chat_id="971501234567", text="Hi", crm_message_id="t-0"
            )
        finally:
            await client.aclose()

    result = asyncio.run(run())
    release.set()  # the hung request now reaches Wazzup's dedupe: the same crmMessageId is refused
    emulator_attempts = lambda: [a.status for a in emulator.attempts]  # noqa: E731
    wait_until(lambda: len(emulator_attempts()) == 2, timeout=30, what="the hung request answered")
    assert emulator_attempts() == [201, 400]
    assert {a.body["crmMessageId"] for a in emulator.attempts} == {"t-0"}
    assert len(emulator.sent) == 1 and result.message_id == emulator.sent[0]["messageId"]


def test_channels_and_webhooks(emulator: WazzupEmulator) -> None:
    async def run() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        client = WazzupClient(settings_for(emulator))
        try:
            with pytest.raises(WazzupRejected) as refused:
                await client.register_webhook("not a uri")
            assert refused.value.code == "uriNotValid"
            return await client.list_channels(), await client.get_webhook()
        finally:
            await client.aclose()

    channels, webhook = asyncio.run(run())
    assert [c["transport"] for c in channels] == ["whatsapp", "telegram"]
    assert webhook == {"webhooksUri": None, "subscriptions": {}}
