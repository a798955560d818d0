"""The Telegram bot against the real gateway and worker, with the Bot API emulator for Telegram.

Redis databases: tests/support/redis_dbs.py (TELEGRAM for the stack the bot answers through).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from parley_testkit.fake_llm import FakeLLM
from parley_testkit.stack import Stack, running_stack
from parley_testkit.telegram_bot import BotProcess, bot_env, start_bot
from parley_testkit.telegram_emulator import TelegramEmulator
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url
from tests.support.telegram import SharedBot


@pytest.fixture(scope="package")
def fake_llm() -> Iterator[FakeLLM]:
    fake = FakeLLM().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="package")
def tg_stack(tmp_path_factory: pytest.TempPathFactory, fake_llm: FakeLLM) -> Iterator[Stack]:
    with running_stack(
        name="telegram",
        workdir=tmp_path_factory.mktemp("telegram-stack"),
        redis_url=redis_url(dbs.TELEGRAM),
        worker_env=fake_llm.worker_env,
    ) as stack:
        yield stack


@pytest.fixture(scope="package")
def emulator() -> Iterator[TelegramEmulator]:
    emulator = TelegramEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def polling_bot(
    tg_stack: Stack, emulator: TelegramEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SharedBot]:
    """The module's polling bot answering through the package's stack."""
    workdir = tmp_path_factory.mktemp("polling-bot")
    env = bot_env(stack_url=tg_stack.url, redis=redis_url(dbs.TELEGRAM), emulator=emulator)
    shared = SharedBot(lambda: start_bot(workdir, emulator, env))
    yield shared
    shared.stop()


@pytest.fixture
def bot(polling_bot: SharedBot) -> Iterator[BotProcess]:
    """A polling bot answering through the package's stack (shared by the module's tests)."""
    with polling_bot.for_test() as running:
        yield running


@pytest.fixture
def no_polling_bot(polling_bot: SharedBot) -> None:
    """The module's polling bot stopped, for a test that runs a bot of its own (two would share the updates)."""
    polling_bot.stop()
