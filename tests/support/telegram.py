"""Helpers of the Telegram bot tests (tests/telegram_bot/): chat ids, a webhook bot's environment, a shared bot."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from parley_testkit.servers import free_port
from parley_testkit.stack import Stack
from parley_testkit.telegram_bot import BotProcess, bot_env
from parley_testkit.telegram_emulator import TelegramEmulator
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url

_chat_ids = itertools.count(int(time.time()) % 100_000 * 1000 + 1)


def new_chat_id() -> int:
    return next(_chat_ids)


def webhook_env(tg_stack: Stack, emulator: TelegramEmulator, secret: str) -> dict[str, Any]:
    port = free_port()
    return bot_env(
        stack_url=tg_stack.url,
        redis=redis_url(dbs.TELEGRAM),
        emulator=emulator,
        TELEGRAM_MODE="webhook",
        TELEGRAM_WEBHOOK_HOST="127.0.0.1",
        TELEGRAM_WEBHOOK_PORT=str(port),
        TELEGRAM_WEBHOOK_PATH="/telegram/webhook",
        TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/webhook",
        TELEGRAM_WEBHOOK_SECRET=secret,
    )


class SharedBot:
    """One bot process for the tests of a module (each start costs seconds), started when a test first
    needs it and again after a test stopped it; `for_test` hands it over settled."""

    def __init__(self, start: Callable[[], BotProcess]) -> None:
        self._start = start
        self._running: BotProcess | None = None

    @contextmanager
    def for_test(self) -> Iterator[BotProcess]:
        if self._running is None or not self._running.alive():
            self._running = self._start()
        running = self._running
        running.mark_log()
        yield running
        # What the test set going (a reply being delivered, an update unconfirmed) ends before the next
        # test injects its failures; a bot that does not settle is not handed on.
        try:
            running.wait_settled()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self._running is not None:
            self._running.stop()
            self._running = None
