"""SIGTERM to the adapter: a reply being sent is finished (and acked) before it exits 0; work that
cannot finish within SHUTDOWN_TIMEOUT_SECONDS (a gateway that is down) is left pending and done once
after the restart."""

from __future__ import annotations

import signal

import pytest
import redis

from parley_testkit.servers import wait_until
from parley_testkit.stack import Stack
from parley_testkit.wazzup_emulator import WazzupEmulator
from tests.support.whatsapp import Adapter, handed_over, new_chat, restart_gateway
from whatsapp_adapter import keys

pytestmark = pytest.mark.fault


def shutting_down(adapter: Adapter) -> bool:
    return "Waiting for application shutdown" in adapter.log()


def sigterm(adapter: Adapter) -> None:
    assert adapter.process is not None
    adapter.process.proc.send_signal(signal.SIGTERM)


def test_sigterm_finishes_the_reply_being_sent_and_exits_0(adapter: Adapter, emulator: WazzupEmulator) -> None:
    chat = new_chat()
    release = emulator.hold_next_send()
    emulator.customer_writes(chat, "Can I change my delivery date?")
    wait_until(lambda: emulator.held == 1, timeout=90, what="the answer's send in flight")
    sigterm(adapter)
    wait_until(lambda: shutting_down(adapter), timeout=30, what="the adapter shutting down")
    assert adapter.alive()  # it waits for the send in flight
    release.set()
    assert adapter.process is not None and adapter.process.proc.wait(timeout=30) == 0, adapter.log()[-3000:]
    assert len(emulator.sent_to(chat)) == 1

    adapter.start()
    marker = new_chat()
    emulator.customer_writes(marker, "Thanks!")
    emulator.wait_sent(marker)  # the restarted adapter has been through its pending entries by now
    # Acked before the exit: nothing was left to retry, the customer has one reply from one attempt.
    assert len(emulator.sent_to(chat)) == 1 and len(emulator.attempts_for(chat)) == 1


def test_sigterm_during_a_hand_over_to_a_down_gateway_leaves_it_pending_for_the_restart(
    adapter: Adapter, emulator: WazzupEmulator, wa_stack: Stack, state: redis.Redis
) -> None:
    adapter.stop()
    adapter.env = {**adapter.env, "SHUTDOWN_TIMEOUT_SECONDS": "1"}
    adapter.start()
    wa_stack.gateway.stop()
    try:
        chat = new_chat()
        _id, response = emulator.customer_writes(chat, "Do you deliver to Sharjah?")
        assert response.status_code == 200 and response.json()["accepted"] == 1
        wait_until(lambda: "not handed over yet" in adapter.log(), timeout=30, what="a failed hand-over logged")
        sigterm(adapter)
        assert adapter.process is not None and adapter.process.proc.wait(timeout=30) == 0, adapter.log()[-3000:]
        assert int(state.xpending(keys.INBOUND_STREAM, keys.CONSUMER_GROUP)["pending"]) == 1
    finally:
        restart_gateway(wa_stack)
    adapter.start()
    [message] = emulator.wait_sent(chat)
    assert message["text"] and handed_over(state)
    marker = new_chat()
    emulator.customer_writes(marker, "Thanks!")
    emulator.wait_sent(marker)
    assert len(emulator.sent_to(chat)) == 1
