"""Several messages sent at once by a Telegram customer are answered once, as one turn."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.stack import Stack, running_stack
from parley_testkit.telegram_bot import BotProcess, bot_env, start_bot
from parley_testkit.telegram_emulator import TelegramEmulator
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url
from tests.support.telegram import new_chat_id

#: Not the package stack's database (5): this stack runs with the production default window.
REDIS_DB = dbs.BURST


@pytest.fixture
def burst_stack(tmp_path: Path, fake_llm: FakeLLM) -> Iterator[Stack]:
    with running_stack(
        name="telegram-burst",
        workdir=tmp_path / "stack",
        redis_url=redis_url(REDIS_DB),
        worker_env=fake_llm.worker_env,
        gateway_overrides={"burst_window_seconds": 2},
    ) as stack:
        yield stack


@pytest.fixture
def burst_bot(burst_stack: Stack, emulator: TelegramEmulator, tmp_path: Path) -> Iterator[BotProcess]:
    env = bot_env(stack_url=burst_stack.url, redis=redis_url(REDIS_DB), emulator=emulator)
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
