"""Sending to Telegram within its limits: 429 retry_after honoured, 5xx and network errors retried."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup, Message, ReplyParameters
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from parley_contract.runtime.retry import wait_backoff

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Bot API failures a later attempt may cure: a 429 (after its retry_after), a 5xx, the network.
TRANSIENT = (TelegramRetryAfter, TelegramServerError, TelegramNetworkError)


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    log.warning("telegram %s: retrying in %.1f s (attempt %d)", type(error).__name__, wait, state.attempt_number)


class Sender:
    def __init__(self, bot: Bot, *, max_attempts: int) -> None:
        self.bot = bot
        self.max_attempts = max_attempts
        self._backoff = wait_backoff(initial=1.0, cap=30.0)

    async def call(self, make: Callable[[], Awaitable[T]]) -> T:
        """Run one Bot API call; wait out 429s and retry 5xx / network errors with backoff (bounded)."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TRANSIENT),
            wait=self._wait,
            stop=stop_after_attempt(self.max_attempts),
            before_sleep=_log_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await make()
        raise AssertionError("unreachable")  # reraise=True: the last error is raised instead

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, TelegramRetryAfter):
            return float(error.retry_after)  # Telegram says how long; sooner is refused again
        return self._backoff(state)

    async def send_html(
        self, chat_id: int, text: str, *, reply_to: int | None = None, markup: InlineKeyboardMarkup | None = None
    ) -> Message:
        """One part of an answer, already Telegram HTML and sized (`formatting.split_html`). A refusal
        (TelegramBadRequest) is the caller's to handle: it sends the part as plain text instead."""
        reply = ReplyParameters(message_id=reply_to, allow_sending_without_reply=True) if reply_to else None
        return await self.call(
            lambda: self.bot.send_message(chat_id, text, parse_mode="HTML", reply_parameters=reply, reply_markup=markup)
        )

    async def send_plain(
        self, chat_id: int, text: str, *, reply_to: int | None = None, markup: InlineKeyboardMarkup | None = None
    ) -> Message:
        """Text sent as it is (no parse_mode): nothing in it can be refused as markup."""
        reply = ReplyParameters(message_id=reply_to, allow_sending_without_reply=True) if reply_to else None
        return await self.call(
            lambda: self.bot.send_message(chat_id, text, parse_mode=None, reply_parameters=reply, reply_markup=markup)
        )

    async def send_notice(self, chat_id: int, text: str, *, reply_to: int | None = None) -> Message:
        """One of the bot's own short texts (no markup)."""
        reply = ReplyParameters(message_id=reply_to, allow_sending_without_reply=True) if reply_to else None
        return await self.call(lambda: self.bot.send_message(chat_id, text, parse_mode=None, reply_parameters=reply))
