"""Both channel adapters treat the gateway's answers alike (issue #17): a refusal of the adapter's own
token (401/403) is the deployment's fault, so the customer's message is kept and retried, never
dropped; a refusal of the message itself (422) is final. Against a real gateway over HTTP."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from parley_contract.schemas import MessageIn, UserIn
from parley_testkit.stack import TOKENS, Stack
from telegram_bot import gateway_client as telegram
from whatsapp_adapter import gateway_client as whatsapp
from whatsapp_adapter.settings import WhatsAppSettings


def _telegram_post(stack: Stack, *, token: str, text: str) -> None:
    async def post() -> None:
        client = telegram.GatewayClient(base_url=stack.url, token=token, timeout=10)
        try:
            await client.post_message(
                chat_id="1", user_id="1", name=None, language=None, text=text, key=uuid.uuid4().hex
            )
        finally:
            await client.aclose()

    asyncio.run(post())


def _whatsapp_post(stack: Stack, *, token: str, text: str) -> None:
    settings = WhatsAppSettings(_env_file=None, parley_env="test", gateway_url=stack.url, gateway_token=token)

    async def post() -> None:
        client = whatsapp.GatewayClient(settings)
        try:
            message = MessageIn(channel="whatsapp", chat_id="971500000001", user=UserIn(id="u"), text=text)
            await client.post_message(message, idempotency_key=uuid.uuid4().hex)
        finally:
            await client.aclose()

    asyncio.run(post())


def test_a_wrong_adapter_token_keeps_the_message_for_a_retry_in_both_adapters(sqlite_gateway: Stack) -> None:
    with pytest.raises(telegram.GatewayUnavailable, match="401"):
        _telegram_post(sqlite_gateway, token="not-the-service-token", text="hello")
    with pytest.raises(whatsapp.GatewayUnavailable, match="401"):
        _whatsapp_post(sqlite_gateway, token="not-the-service-token", text="hello")


def test_a_message_the_gateway_refuses_is_refused_for_good_in_both_adapters(sqlite_gateway: Stack) -> None:
    too_long = "x" * 100_000  # over the gateway's text limit: 422
    with pytest.raises(telegram.GatewayRejected, match="422"):
        _telegram_post(sqlite_gateway, token=TOKENS["service"], text=too_long)
    with pytest.raises(whatsapp.GatewayRefused, match="422"):
        _whatsapp_post(sqlite_gateway, token=TOKENS["service"], text=too_long)
