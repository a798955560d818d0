"""The bot's parts against the emulator and a real Redis (database 7), without the gateway."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError, TelegramRetryAfter, TelegramServerError
from pydantic import ValidationError
from redis.asyncio import Redis

from parley_contract.schemas import ReplyEvent, TaskStatus
from parley_testkit.telegram_emulator import TelegramEmulator
from telegram_bot.delivery import ReplyDelivery
from telegram_bot.sender import Sender
from telegram_bot.settings import BotSettings
from telegram_bot.store import ReplyTarget, Store
from telegram_bot.typing_indicator import TypingIndicator
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url
from tests.support.env_example import SHARED_ADAPTER_NAMES, env_example_names, expected_of, read_documented
from tests.support.telegram import new_chat_id

REDIS = redis_url(dbs.TELEGRAM_UNITS)


@pytest.fixture(autouse=True)
def clean_redis() -> Iterator[None]:
    client = redis.Redis.from_url(REDIS)
    client.flushdb()
    yield
    client.flushdb()
    client.close()


def _bot(emulator: TelegramEmulator) -> Bot:
    return Bot(emulator.token, session=AiohttpSession(api=TelegramAPIServer.from_base(emulator.url)))


def test_the_emulator_refuses_what_telegram_refuses_through_aiograms_real_session(emulator: TelegramEmulator) -> None:
    chat = new_chat_id()

    async def scenario() -> None:
        bot = _bot(emulator)
        try:
            with pytest.raises(TelegramBadRequest, match="message is too long"):
                await bot.send_message(chat, "x" * 4097)
            with pytest.raises(TelegramBadRequest, match="can't parse entities"):
                await bot.send_message(chat, "<b>unclosed", parse_mode="HTML")
            with pytest.raises(TelegramBadRequest, match="can't parse entities"):
                await bot.send_message(chat, "1.5 is reserved", parse_mode="MarkdownV2")
            # 4096 visible characters are fine even though the HTML is longer.
            sent = await bot.send_message(chat, "<b>" + "y" * 4096 + "</b>", parse_mode="HTML")
            with pytest.raises(TelegramBadRequest, match="not modified"):
                await bot.edit_message_text(
                    "<b>" + "y" * 4096 + "</b>", chat_id=chat, message_id=sent.message_id, parse_mode="HTML"
                )
            await bot.edit_message_text("edited", chat_id=chat, message_id=sent.message_id)
            emulator.fail_next("sendMessage", status=429, retry_after=3)
            with pytest.raises(TelegramRetryAfter) as caught:
                await bot.send_message(chat, "hello")
            assert caught.value.retry_after == 3
            emulator.fail_next("sendChatAction", status=500)
            with pytest.raises(TelegramServerError):
                await bot.send_chat_action(chat, "typing")
            assert await bot.send_message_draft(chat, draft_id=7, text="Thinking")
            with pytest.raises(TelegramBadRequest):
                await bot.send_message_draft(chat, draft_id=0, text="x")
            await bot.set_webhook("http://127.0.0.1:9/none", secret_token="abc")
            with pytest.raises(TelegramConflictError):
                await bot.get_updates(timeout=0)
            await bot.delete_webhook()
        finally:
            await bot.session.close()

    asyncio.run(scenario())
    assert [m.visible for m in emulator.messages(chat)] == ["edited"]
    assert emulator.drafts[-1] == {"chat_id": chat, "draft_id": 7, "text": "Thinking"}


def _delivery(bot: Bot, store: Store, client: Redis, consumer: str = "unit") -> ReplyDelivery:
    return ReplyDelivery(
        redis=client,
        store=store,
        sender=Sender(bot, max_attempts=3),
        typing=TypingIndicator(bot, store, interval=4, max_seconds=10),
        consumer=consumer,
        split_pause_seconds=0.1,
        reclaim_idle_seconds=60,
        target_wait_seconds=0.5,
    )


def _event(chat: int, status: TaskStatus = TaskStatus.done, answer: str | None = "An answer.") -> ReplyEvent:
    return ReplyEvent(
        task_id=f"task-{chat}",
        tenant_id="default",
        conversation_id="c",
        channel="telegram",
        chat_id=str(chat),
        status=status,
        answer=answer,
        error=None if status == TaskStatus.done else "model down",
    )


def test_the_same_reply_delivered_concurrently_and_again_is_sent_once(emulator: TelegramEmulator) -> None:
    chat = new_chat_id()

    async def scenario() -> list[bool]:
        bot, client = _bot(emulator), Redis.from_url(REDIS)
        store = Store(client, bot.id)
        await store.remember_target(f"task-{chat}", ReplyTarget(chat, 41))
        first, second = _delivery(bot, store, client, "a"), _delivery(bot, store, client, "b")
        try:
            results = list(await asyncio.gather(first.deliver(_event(chat)), second.deliver(_event(chat))))
            results.append(await second.deliver(_event(chat)))
            return results
        finally:
            await bot.session.close()
            await client.aclose()

    results = asyncio.run(scenario())
    assert sorted(results) == [False, True, True]  # one held the lock; the late redelivery sees the marker
    [message] = emulator.messages(chat)
    assert message.visible == "An answer." and message.reply_to_message_id == 41


def test_a_failed_task_becomes_an_apology_without_buttons(emulator: TelegramEmulator) -> None:
    chat = new_chat_id()

    async def scenario() -> None:
        bot, client = _bot(emulator), Redis.from_url(REDIS)
        try:
            assert await _delivery(bot, Store(client, bot.id), client).deliver(_event(chat, TaskStatus.failed, None))
        finally:
            await bot.session.close()
            await client.aclose()

    asyncio.run(scenario())
    [message] = emulator.messages(chat)
    assert message.visible.startswith("Sorry") and message.reply_markup is None


def _deliver(emulator: TelegramEmulator, event: ReplyEvent, *, reply_to: int = 41) -> tuple[bool, bool]:
    """Deliver one reply event through the emulator: (settled, marked delivered)."""

    async def scenario() -> tuple[bool, bool]:
        bot, client = _bot(emulator), Redis.from_url(REDIS)
        store = Store(client, bot.id)
        await store.remember_target(event.task_id, ReplyTarget(int(event.chat_id), reply_to))
        try:
            settled = await _delivery(bot, store, client).deliver(event)
            return settled, await store.is_delivered(event.task_id)
        finally:
            await bot.session.close()
            await client.aclose()

    return asyncio.run(scenario())


def _two_part_answer() -> str:
    """~5,000 visible characters with a link in every sentence: two parts, the first one's plain text
    (links shown as `label (url)`) longer than Telegram's limit."""
    return "\n\n".join(
        " ".join(f"Model {p}.{s} is [in stock](https://duneandoak.ae/p/{p}-{s}) at AED 1,{s}00." for s in range(10))
        for p in range(14)
    )


def test_a_part_telegram_refuses_as_html_arrives_as_plain_text_in_pieces_within_the_limit(
    emulator: TelegramEmulator,
) -> None:
    chat = new_chat_id()
    emulator.fail_next("sendMessage", status=400, description="Bad Request: message is too long")
    settled, delivered = _deliver(emulator, _event(chat, answer=_two_part_answer()))
    assert settled and delivered
    messages = emulator.messages(chat)
    refused = [r for r in emulator.rejected if r[1].get("chat_id") == str(chat)]
    assert len(refused) == 1 and "too long" in refused[0][3]
    # Part 1 as plain text (its links written out, so in two pieces), then part 2 as HTML.
    assert [m.parse_mode for m in messages] == [None, None, "HTML"]
    assert all(len(m.visible) <= 4096 for m in messages)
    assert "in stock (https://duneandoak.ae/p/0-0)" in messages[0].text
    assert messages[0].reply_to_message_id == 41 and messages[1].reply_to_message_id is None
    assert [m.reply_markup is not None for m in messages] == [False, False, True]
    words = " ".join(m.visible for m in messages)
    assert all(f"Model {p}.{s} is in stock" in words for p in range(14) for s in range(10))


def test_an_answer_with_a_part_not_sent_is_never_marked_delivered(emulator: TelegramEmulator) -> None:
    blocked, refused = new_chat_id(), new_chat_id()
    emulator.fail_next("sendMessage", status=403, description="Forbidden: bot was blocked by the user")
    assert _deliver(emulator, _event(blocked, answer=_two_part_answer())) == (True, False)
    # Refused as HTML and again as plain text: the rest is not sent, and nothing says "delivered".
    emulator.fail_next("sendMessage", status=400, times=2, description="Bad Request: chat not found")
    assert _deliver(emulator, _event(refused, answer=_two_part_answer())) == (True, False)
    assert emulator.messages(blocked) == [] and emulator.messages(refused) == []


def test_a_delivery_lock_is_respected_unless_it_is_our_own_dead_run() -> None:
    async def scenario() -> tuple[bool, bool, bool]:
        client = Redis.from_url(REDIS)
        store = Store(client, 1)
        try:
            assert await store.lock_delivery("t", consumer="bot-a", instance="run-1")
            other = await store.lock_delivery("t", consumer="bot-b", instance="run-9")
            same_run = await store.lock_delivery("t", consumer="bot-a", instance="run-1")
            next_run = await store.lock_delivery("t", consumer="bot-a", instance="run-2")
            return other, same_run, next_run
        finally:
            await client.aclose()

    assert asyncio.run(scenario()) == (False, False, True)


def test_settings_refuse_a_webhook_without_secret_and_dev_tokens_in_production() -> None:
    base = {"_env_file": None, "bot_token": "1:abc"}
    assert BotSettings(**base).mode == "polling"  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="WEBHOOK_URL"):
        BotSettings(**base, mode="webhook", webhook_secret="s")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="WEBHOOK_SECRET"):
        BotSettings(**base, mode="webhook", webhook_url="https://x/hook", webhook_secret="bad secret!")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="SERVICE_TOKEN"):
        BotSettings(**base, parley_env="production")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="BOT_TOKEN"):
        BotSettings(_env_file=None, bot_token="no-colon")


#: Each documented name → (field, value written in .env, value the settings must hold).
DOCUMENTED: dict[str, tuple[str, str, object]] = {
    "TELEGRAM_BOT_TOKEN": ("bot_token", "42:documented", "42:documented"),
    "TELEGRAM_MODE": ("mode", "webhook", "webhook"),
    "TELEGRAM_API_BASE": ("telegram_api_base", "http://bot-api.local", "http://bot-api.local"),
    "TELEGRAM_WEBHOOK_URL": ("webhook_url", "https://bot.example.com/tg", "https://bot.example.com/tg"),
    "TELEGRAM_WEBHOOK_SECRET": ("webhook_secret", "documented_secret-1", "documented_secret-1"),
    "TELEGRAM_WEBHOOK_HOST": ("webhook_host", "127.0.0.2", "127.0.0.2"),
    "TELEGRAM_WEBHOOK_PORT": ("webhook_port", "18081", 18081),
    "TELEGRAM_WEBHOOK_PATH": ("webhook_path", "/tg/hook", "/tg/hook"),
    "TELEGRAM_THROTTLE_BURST": ("throttle_burst", "7", 7),
    "TELEGRAM_THROTTLE_RATE": ("throttle_rate", "0.25", 0.25),
    "TELEGRAM_SPLIT_PAUSE_SECONDS": ("split_pause_seconds", "1.5", 1.5),
    "TELEGRAM_RETRY_MAX_SECONDS": ("retry_max_seconds", "90", 90.0),
    "TELEGRAM_CONSUMER_NAME": ("consumer_name", "bot-replica-2", "bot-replica-2"),
    **SHARED_ADAPTER_NAMES,
}


def test_the_names_env_example_documents_reach_the_settings_and_older_names_still_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert env_example_names("telegram_bot", "channel adapters") <= set(DOCUMENTED)
    for name in [*DOCUMENTED, "BOT_TOKEN", "MODE", "WEBHOOK_URL", "WEBHOOK_SECRET", "GATEWAY_TOKEN"]:
        monkeypatch.delenv(name, raising=False)
    env_file = tmp_path / ".env"
    assert read_documented(BotSettings, DOCUMENTED, env_file) == expected_of(DOCUMENTED)
    # The unprefixed names of older setups are still read; a documented name set as well wins.
    env_file.write_text("TELEGRAM_WEBHOOK_SECRET=documented\nBOT_TOKEN=1:old\n")
    for name, value in {"MODE": "webhook", "WEBHOOK_URL": "https://old/hook", "WEBHOOK_SECRET": "old"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GATEWAY_TOKEN", "old-token")
    older = BotSettings(_env_file=env_file)
    assert (older.bot_token.get_secret_value(), older.mode, older.webhook_url) == (
        "1:old",
        "webhook",
        "https://old/hook",
    )
    assert older.webhook_secret.get_secret_value() == "documented"
    assert older.gateway_token.get_secret_value() == "old-token"
