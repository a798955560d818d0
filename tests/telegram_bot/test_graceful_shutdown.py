"""SIGTERM to the bot while it delivers a reply in parts: it finishes the reply, then exits 0;
after a restart the customer still has every part exactly once."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.servers import wait_until
from parley_testkit.stack import Stack
from parley_testkit.telegram_bot import bot_env, start_bot
from parley_testkit.telegram_emulator import TelegramEmulator
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url
from tests.support.telegram import new_chat_id

pytestmark = pytest.mark.fault


def test_sigterm_mid_delivery_finishes_the_reply_and_exits_0(
    tg_stack: Stack, emulator: TelegramEmulator, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    paragraphs = [f"Section {p}: " + "Delivery within the UAE takes two to four working days. " * 70 for p in range(3)]
    answer = "\n\n".join(p.strip() for p in paragraphs)
    fake_llm.add(Rule(when="every delivery rule", answer=answer))
    # Two pauses of 2 s between the parts: the SIGTERM lands mid-reply, and the rest fits the 8 s grace.
    env = bot_env(stack_url=tg_stack.url, redis=redis_url(dbs.TELEGRAM), emulator=emulator, SPLIT_PAUSE_SECONDS="2")
    bot = start_bot(tmp_path, emulator, env)
    chat = new_chat_id()
    emulator.send_text(chat, "Tell me every delivery rule")
    bot.wait_answer(chat, count=1)
    bot.process.proc.send_signal(signal.SIGTERM)
    assert bot.process.proc.wait(timeout=30) == 0, bot.process.log()[-3000:]
    # Finished before the exit, not left to the restart.
    assert [t.split(":")[0] for t in emulator.texts(chat)] == ["Section 0", "Section 1", "Section 2"]
    bot.stop()

    restarted = start_bot(tmp_path, emulator, env)
    try:
        restarted.wait_settled()
        wait_until(lambda: emulator.pending_updates() == 0, timeout=30, what="updates confirmed")
        assert "\n\n".join(emulator.texts(chat)) == answer
    finally:
        restarted.stop()
