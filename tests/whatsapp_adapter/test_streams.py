"""Delivery survives restarts: an answer made while the adapter was down, or a send cut by a crash,
reaches the customer exactly once when the adapter (or another instance) comes back."""

from __future__ import annotations

import signal
import uuid
from pathlib import Path

import pytest
import redis

from parley_testkit.servers import wait_until
from parley_testkit.stack import Stack
from parley_testkit.wazzup_emulator import WazzupEmulator
from tests.support.whatsapp import Adapter, handed_over, new_chat, reply_events


def test_an_answer_made_while_the_adapter_was_down_is_delivered_once_after_it_returns(
    adapter: Adapter, emulator: WazzupEmulator, wa_stack: Stack, state: redis.Redis
) -> None:
    assert wa_stack.worker is not None
    wa_stack.worker.stop()
    try:
        chat = new_chat()
        emulator.customer_writes(chat, "How long is the warranty?")
        wait_until(lambda: handed_over(state), timeout=30, what="the message handed to the gateway")
        adapter.stop()
    finally:
        wa_stack.start_worker()
    wait_until(lambda: any(e["chat_id"] == chat for e in reply_events(state)), timeout=180, what="the answer made")
    assert emulator.sent_to(chat) == []
    adapter.start()
    [message] = emulator.wait_sent(chat)
    marker = new_chat()
    emulator.customer_writes(marker, "Thanks!")
    emulator.wait_sent(marker)
    assert emulator.sent_to(chat) == [message]


@pytest.mark.parametrize("comes_back_as", ["the same instance", "another instance"])
def test_a_send_cut_by_a_crash_is_finished_once_after_the_restart(
    adapter: Adapter, emulator: WazzupEmulator, tmp_path: Path, comes_back_as: str
) -> None:
    chat = new_chat()
    release = emulator.hold_next_send()
    emulator.customer_writes(chat, "Can I change my delivery date?")
    wait_until(lambda: emulator.held == 1, timeout=90, what="the answer's send in flight")
    adapter.stop(signal.SIGKILL)
    release.set()  # Wazzup sends it; the 201 goes nowhere
    emulator.wait_sent(chat)
    if comes_back_as == "another instance":
        adapter = Adapter(
            env={
                **adapter.env,
                "WAZZUP_CONSUMER_NAME": f"test-{uuid.uuid4().hex[:8]}",
                "WAZZUP_RECLAIM_IDLE_SECONDS": "1",
            },
            workdir=tmp_path,
            port=adapter.port,  # where the webhook is registered
        )
    adapter.start()
    try:
        wait_until(lambda: len(emulator.attempts_for(chat)) >= 2, timeout=60, what="the send retried")
        attempts = emulator.attempts_for(chat)
        assert [a.status for a in attempts] == [201, 400]  # the retry is refused as REPEATED_CRM_MESSAGE_ID
        assert len({a.body["crmMessageId"] for a in attempts}) == 1
        marker = new_chat()
        emulator.customer_writes(marker, "Thanks!")
        emulator.wait_sent(marker)
        assert len(emulator.sent_to(chat)) == 1 and len(emulator.attempts_for(chat)) == 2
    finally:
        adapter.stop()
