"""'typing…' while an answer is being made: sent about every 4 s until the answer is delivered."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from aiogram import Bot

from telegram_bot.store import Store

log = logging.getLogger(__name__)


class TypingIndicator:
    def __init__(self, bot: Bot, store: Store, *, interval: float, max_seconds: float) -> None:
        self.bot = bot
        self.store = store
        self.interval = interval
        self.max_seconds = max_seconds
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, task_id: str, chat_id: int) -> None:
        if task_id in self._tasks and not self._tasks[task_id].done():
            return
        self._tasks[task_id] = asyncio.create_task(self._loop(task_id, chat_id))

    def stop(self, task_id: str) -> None:
        task = self._tasks.pop(task_id, None)
        if task is not None:
            task.cancel()

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self, task_id: str, chat_id: int) -> None:
        deadline = time.monotonic() + self.max_seconds
        try:
            # Another replica may deliver the answer: the delivery marker ends the loop too.
            while time.monotonic() < deadline and not await self.store.is_delivered(task_id):
                try:
                    await self.bot.send_chat_action(chat_id, "typing")
                except Exception as exc:  # a missed "typing" is cosmetic; never let it break anything
                    log.debug("sendChatAction failed: %s", exc)
                await asyncio.sleep(self.interval)
        finally:
            if self._tasks.get(task_id) is asyncio.current_task():
                self._tasks.pop(task_id, None)
