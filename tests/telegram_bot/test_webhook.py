"""Webhook mode: setWebhook with a secret; a wrong or missing secret is refused with 401."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import httpx
import pytest

from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.stack import Stack
from parley_testkit.telegram_bot import BotProcess, start_bot
from parley_testkit.telegram_emulator import TelegramEmulator
from tests.support.telegram import SharedBot, new_chat_id, webhook_env

SECRET = "s3cret_webhook-token"


@pytest.fixture(scope="module")
def shared_webhook_bot(
    tg_stack: Stack, emulator: TelegramEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SharedBot]:
    """One webhook bot for the module's tests."""
    workdir = tmp_path_factory.mktemp("webhook-bot")
    env = webhook_env(tg_stack, emulator, SECRET)
    shared = SharedBot(lambda: start_bot(workdir, emulator, env))
    yield shared
    shared.stop()
    # Back to polling for the other tests (a polling bot also deletes the webhook when it starts).
    httpx.post(f"{emulator.url}/bot{emulator.token}/deleteWebhook", timeout=10)


@pytest.fixture
def webhook_bot(shared_webhook_bot: SharedBot) -> Iterator[BotProcess]:
    with shared_webhook_bot.for_test() as running:
        yield running


def _tasks_for_chat(stack: Stack, chat: int) -> int:
    with sqlite3.connect(stack.settings.database_url.removeprefix("sqlite:///")) as connection:
        row = connection.execute(
            "SELECT count(*) FROM task JOIN conversation ON task.conversation_id = conversation.id "
            "WHERE conversation.chat_id = ?",
            (str(chat),),
        ).fetchone()
    return int(row[0])


def test_webhook_is_registered_with_the_secret(webhook_bot: BotProcess, emulator: TelegramEmulator) -> None:
    [registered] = emulator.calls_of("setWebhook")[-1:]
    assert registered["url"] == webhook_bot.webhook_url and registered["secret_token"] == SECRET


def test_a_message_through_the_webhook_is_answered_once(
    webhook_bot: BotProcess, emulator: TelegramEmulator, fake_llm: FakeLLM
) -> None:
    fake_llm.add(Rule(when="click and collect", answer="Yes — collect from our Deira store within 2 hours."))
    chat = new_chat_id()
    asked = emulator.send_text(chat, "Do you have click and collect?")
    webhook_bot.wait_answer(chat)
    # Telegram re-sends the same update (e.g. our answer to it was lost): still one answer.
    response = httpx.post(
        webhook_bot.webhook_url, json=asked, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}, timeout=10
    )
    assert response.status_code == 200
    webhook_bot.wait_settled()
    emulator.send_text(chat, "Great")
    webhook_bot.wait_answer(chat, count=2)
    webhook_bot.wait_settled()
    assert emulator.texts(chat).count("Yes — collect from our Deira store within 2 hours.") == 1
    assert (asked["update_id"], 200) in emulator.webhook_deliveries


@pytest.mark.parametrize("headers", [{"X-Telegram-Bot-Api-Secret-Token": "wrong-secret"}, {}])
def test_a_wrong_or_missing_secret_is_401_and_makes_no_task(
    webhook_bot: BotProcess, emulator: TelegramEmulator, tg_stack: Stack, headers: dict[str, str]
) -> None:
    chat = new_chat_id()
    update = {
        "update_id": 990_000 + chat % 1000,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "Mallory"},
            "text": "Forged: give me a refund",
        },
    }
    response = httpx.post(webhook_bot.webhook_url, json=update, headers=headers, timeout=10)
    assert response.status_code == 401
    # A genuine message afterwards is answered, so the forged one had its chance to be processed.
    genuine_chat = new_chat_id()
    emulator.send_text(genuine_chat, "Hello")
    webhook_bot.wait_answer(genuine_chat)
    webhook_bot.wait_settled()
    assert _tasks_for_chat(tg_stack, chat) == 0
    assert emulator.texts(chat) == []


def test_unknown_unhandled_and_malformed_updates_are_ignored_politely(
    webhook_bot: BotProcess, emulator: TelegramEmulator
) -> None:
    chat = new_chat_id()
    base = 995_000 + (chat % 1000) * 4
    from_future = {"update_id": base, "some_future_update": {"chat": {"id": chat}}}
    unhandled = {
        "update_id": base + 1,
        "edited_message": {
            "message_id": 5,
            "date": 1_700_000_000,
            "edit_date": 1_700_000_100,
            "chat": {"id": chat, "type": "private"},
            "text": "edited",
        },
    }
    malformed = {"update_id": base + 2, "poll": {"id": "p", "question": "?"}}  # required fields missing
    in_a_group = {
        "update_id": base + 3,
        "message": {
            "message_id": 6,
            "date": 1_700_000_000,
            "chat": {"id": -chat, "type": "group", "title": "Friends"},
            "from": {"id": chat, "is_bot": False, "first_name": "Customer"},
            "text": "Anyone up for lunch?",
        },
    }
    for update in (from_future, unhandled, malformed, in_a_group):
        response = httpx.post(
            webhook_bot.webhook_url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}, timeout=10
        )
        assert response.status_code == 200, update
    not_json = httpx.post(
        webhook_bot.webhook_url, content=b"{nope", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}, timeout=10
    )
    assert not_json.status_code == 200
    emulator.send_text(chat, "Still there?")
    webhook_bot.wait_answer(chat)
    assert webhook_bot.process.alive()
    assert emulator.texts(chat) == [emulator.texts(chat)[0]]  # only the answer to the real message
    assert emulator.texts(-chat) == []  # nothing said in the group
