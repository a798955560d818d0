"""Several messages sent at once by a Telegram customer are answered once, as one turn."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.stack import Stack
from parley_testkit.telegram_bot import BotProcess, bot_env, start_bot
from parley_testkit.telegram_emulator import TelegramEmulator
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url
from tests.support.telegram import new_chat_id


@pytest.fixture
def burst_bot(tg_stack: Stack, emulator: TelegramEmulator, tmp_path: Path) -> Iterator[BotProcess]:
    """A bot of its own on the package's stack, whose gateway has the production default window for the
    test (the other Telegram tests run without one)."""
    with tg_stack.setting("burst_window_seconds", 2):
        env = bot_env(stack_url=tg_stack.url, redis=redis_url(dbs.TELEGRAM), emulator=emulator)
        running = start_bot(tmp_path, emulator, env)
        yield running
        running.stop()


def test_a_burst_of_three_messages_gets_one_answer(
    burst_bot: BotProcess, emulator: TelegramEmulator, fake_llm: FakeLLM
) -> None:
    fake_llm.add(Rule(when="which colours", answer="The Oslo sofa comes in grey, green and sand."))
    chat = new_chat_id()
    for text in ("Hi!", "About the Oslo sofa", "which colours does it come in?"):
        emulator.send_text(chat, text)
    burst_bot.wait_answer(chat)
    burst_bot.wait_settled()
    assert emulator.texts(chat) == ["The Oslo sofa comes in grey, green and sand."]
