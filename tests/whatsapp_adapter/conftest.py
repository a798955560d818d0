"""The WhatsApp path with real parts: gateway, worker (answering through the scripted hosted LLM), Redis,
the adapter as its own process (`python -m whatsapp_adapter serve`); only Wazzup24 is the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from parley_testkit.fake_llm import FakeLLM
from parley_testkit.stack import Stack, running_stack
from parley_testkit.wazzup_emulator import WazzupEmulator
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url
from tests.support.whatsapp import Adapter, adapter_env, reset_adapter_state


@pytest.fixture(scope="session")
def wa_fake_llm() -> Iterator[FakeLLM]:
    fake = FakeLLM().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def wa_stack(tmp_path_factory: pytest.TempPathFactory, wa_fake_llm: FakeLLM) -> Iterator[Stack]:
    with running_stack(
        name="whatsapp",
        workdir=tmp_path_factory.mktemp("whatsapp-stack"),
        redis_url=redis_url(dbs.WHATSAPP),
        worker_env=wa_fake_llm.worker_env,
    ) as stack:
        yield stack


@pytest.fixture
def emulator() -> Iterator[WazzupEmulator]:
    emulator = WazzupEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def adapter(wa_stack: Stack, emulator: WazzupEmulator, tmp_path: Path) -> Iterator[Adapter]:
    reset_adapter_state(wa_stack)
    adapter = Adapter(env=adapter_env(wa_stack, emulator), workdir=tmp_path).start()
    adapter.register_with(emulator)
    yield adapter
    adapter.stop()
    print(adapter.log())


@pytest.fixture
def state(wa_stack: Stack) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(wa_stack.settings.redis_url, decode_responses=True)
    yield client
    client.close()
