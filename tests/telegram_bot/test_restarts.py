"""Reply delivery survives the bot being killed: while the answer is made, and mid-delivery."""

from __future__ import annotations

import signal
from pathlib import Path

import redis

from parley_contract.names import reply_stream
from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.servers import wait_until
from parley_testkit.stack import Stack
from parley_testkit.telegram_bot import bot_env, start_bot
from parley_testkit.telegram_emulator import TelegramEmulator
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url
from tests.support.telegram import new_chat_id


def _stream_length() -> int:
    client = redis.Redis.from_url(redis_url(dbs.TELEGRAM))
    try:
        return int(client.xlen(reply_stream("telegram")))
    finally:
        client.close()


def test_bot_killed_while_the_worker_answers_delivers_once_after_restart(
    tg_stack: Stack, emulator: TelegramEmulator, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.add(
        Rule(when="custom engraving", answer="Yes, engraving is free on orders over AED 300.", delay_seconds=6)
    )
    env = bot_env(stack_url=tg_stack.url, redis=redis_url(dbs.TELEGRAM), emulator=emulator)
    bot = start_bot(tmp_path, emulator, env)
    chat = new_chat_id()
    published_before = _stream_length()
    emulator.send_text(chat, "Do you do custom engraving?")
    # The gateway accepted it (typing is shown only then); the model is still writing.
    wait_until(lambda: "typing" in emulator.chat_actions(chat), timeout=30, what="typing shown")
    bot.stop(signal.SIGKILL)
    wait_until(lambda: _stream_length() > published_before, timeout=60, what="answer published while the bot is down")
    assert emulator.texts(chat) == []

    restarted = start_bot(tmp_path, emulator, env)
    try:
        restarted.wait_answer(chat)
        restarted.wait_settled()
        assert emulator.texts(chat) == ["Yes, engraving is free on orders over AED 300."]
    finally:
        restarted.stop()


def test_bot_killed_mid_delivery_sends_only_the_missing_parts_after_restart(
    tg_stack: Stack, emulator: TelegramEmulator, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    paragraphs = [f"Part {p}: " + "The warranty covers parts and labour for two years. " * 70 for p in range(3)]
    answer = "\n\n".join(p.strip() for p in paragraphs)
    fake_llm.add(Rule(when="whole warranty", answer=answer))
    # A long pause between parts gives the test a moment to kill the bot after the first one.
    env = bot_env(stack_url=tg_stack.url, redis=redis_url(dbs.TELEGRAM), emulator=emulator, SPLIT_PAUSE_SECONDS="4")
    bot = start_bot(tmp_path, emulator, env)
    chat = new_chat_id()
    emulator.send_text(chat, "Explain the whole warranty")
    bot.wait_answer(chat, count=1)
    bot.stop(signal.SIGKILL)
    assert len(emulator.texts(chat)) == 1

    restarted = start_bot(tmp_path, emulator, {**env, "TELEGRAM_SPLIT_PAUSE_SECONDS": "1"})
    try:
        restarted.wait_answer(chat, count=3)
        restarted.wait_settled()
        texts = emulator.texts(chat)
        assert [t.split(":")[0] for t in texts] == ["Part 0", "Part 1", "Part 2"]
        assert "\n\n".join(texts) == answer
    finally:
        restarted.stop()
