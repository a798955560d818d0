"""Replies reach the customer once, readable: long answers split, formatting converted, failures apologised,
Wazzup's 429 and 500 survived without a second copy."""

from __future__ import annotations

import json
import re

import redis

from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.servers import wait_until
from parley_testkit.wazzup_emulator import WazzupEmulator
from tests.support.whatsapp import Adapter, new_chat, reply_events, stream_entries
from whatsapp_adapter import keys
from whatsapp_adapter.settings import WhatsAppSettings


def test_a_long_answer_arrives_in_readable_parts_under_the_limit(
    adapter: Adapter, emulator: WazzupEmulator, wa_fake_llm: FakeLLM
) -> None:
    paragraphs = [f"Part {i}: " + "Our oak tables are made by hand in Dubai and oiled twice. " * 30 for i in range(14)]
    answer = "\n\n".join(p.strip() for p in paragraphs)
    assert len(answer) > 2 * 10_000
    wa_fake_llm.add(Rule(when="tell me everything about tables", answer=answer))
    chat = new_chat()
    emulator.customer_writes(chat, "Please tell me everything about tables")
    emulator.wait_sent(chat, 3)
    sent = emulator.sent_to(chat)
    assert all(len(m["text"]) <= 10_000 for m in sent)
    assert all(m["text"].startswith("Part ") and m["text"].endswith(".") for m in sent)
    assert re.sub(r"\s+", " ", " ".join(m["text"] for m in sent)) == re.sub(r"\s+", " ", answer)
    assert len({m["crmMessageId"] for m in sent}) == len(sent)
    assert [a.status for a in emulator.attempts_for(chat)] == [201] * len(sent)


def test_markdown_and_html_in_an_answer_arrive_as_whatsapp_formatting(
    adapter: Adapter, emulator: WazzupEmulator, wa_fake_llm: FakeLLM
) -> None:
    wa_fake_llm.add(
        Rule(
            when="sofa price",
            answer="**The Dune sofa** costs <b>AED 4,200</b>, *free delivery*. Details: [sofas](https://dune.example/sofas)",
        )
    )
    chat = new_chat()
    emulator.customer_writes(chat, "What is the sofa price?")
    [message] = emulator.wait_sent(chat)
    assert (
        message["text"]
        == "*The Dune sofa* costs *AED 4,200*, _free delivery_. Details: sofas (https://dune.example/sofas)"
    )


def test_a_failed_task_reaches_the_customer_as_an_apology(
    adapter: Adapter, emulator: WazzupEmulator, wa_fake_llm: FakeLLM
) -> None:
    wa_fake_llm.add(Rule(when="gift wrapping", status=500))  # every attempt, every retry
    chat = new_chat()
    emulator.customer_writes(chat, "Do you offer gift wrapping?")
    [message] = emulator.wait_sent(chat)
    assert message["text"] == WhatsAppSettings(_env_file=None).apology_text


def test_429_is_delivered_once_after_the_window(adapter: Adapter, emulator: WazzupEmulator) -> None:
    chat = new_chat()
    emulator.rate_limit_for(2.0)
    emulator.customer_writes(chat, "Is the showroom open today?")
    [message] = emulator.wait_sent(chat)
    statuses = [a.status for a in emulator.attempts_for(chat)]
    assert statuses[0] == 429 and statuses[-1] == 201 and statuses.count(201) == 1
    # Waiting for the (1 s) window between attempts, not hammering: a 2 s limit costs a few tries at most.
    assert len(statuses) <= 4
    assert {a.body["crmMessageId"] for a in emulator.attempts_for(chat)} == {message["crmMessageId"]}


def test_one_500_is_retried_with_the_same_crm_message_id_and_sent_once(
    adapter: Adapter, emulator: WazzupEmulator
) -> None:
    chat = new_chat()
    emulator.fail_next(500, store_first=True)  # Wazzup sent it but answered 500
    emulator.customer_writes(chat, "Can I pay in instalments?")
    [message] = emulator.wait_sent(chat)
    wait_until(lambda: len(emulator.attempts_for(chat)) >= 2, timeout=30, what="the retry")
    attempts = emulator.attempts_for(chat)
    assert [a.status for a in attempts] == [500, 400]
    assert {a.body["crmMessageId"] for a in attempts} == {message["crmMessageId"]}
    assert len(emulator.sent_to(chat)) == 1


def test_a_refused_delivery_is_recorded_as_failed(
    adapter: Adapter, emulator: WazzupEmulator, state: redis.Redis
) -> None:
    chat = new_chat()
    emulator.fail_next(400)  # scripted INTERNAL_ERROR with 400: a refusal, not retried
    emulator.customer_writes(chat, "Where is my order?")
    wait_until(lambda: state.xlen(keys.FAILED_STREAM) > 0, timeout=60, what="a failed delivery recorded")
    [failure] = stream_entries(state, keys.FAILED_STREAM)
    assert failure["status"] == "400" and failure["code"] == "INTERNAL_ERROR"
    assert failure["delivery_id"].startswith("task-")
    assert [a.status for a in emulator.attempts_for(chat)] == [400] and emulator.sent_to(chat) == []


def test_the_adapter_logs_the_request_id_of_what_it_delivers_but_not_the_text(
    adapter: Adapter, emulator: WazzupEmulator, state: redis.Redis
) -> None:
    chat = new_chat()
    marker = f"zq{chat[-6:]}"
    emulator.customer_writes(chat, f"Do you deliver to Fujairah? My code is {marker}")
    emulator.wait_sent(chat)
    [event] = [e for e in reply_events(state) if e["chat_id"] == chat]
    request_id = event["request_id"]
    assert request_id  # the adapter sent it as X-Request-ID with the message; the gateway kept it on the task
    delivered = [
        record
        for record in (json.loads(line) for line in adapter.log().splitlines() if line.startswith("{"))
        if record.get("request_id") == request_id
    ]
    assert any("handed over as task" in r["message"] for r in delivered)
    assert any(r["message"].startswith("delivered ") for r in delivered)
    assert marker not in adapter.log() and chat not in adapter.log()
