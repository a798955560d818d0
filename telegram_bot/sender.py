"""Sending to Telegram within its limits: 429 retry_after honoured, 5xx and network errors retried."""

from __future__ import annotations

import asyncio
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

log = logging.getLogger(__name__)

T = TypeVar("T")


class Sender:
    def __init__(self, bot: Bot, *, max_attempts: int) -> None:
        self.bot = bot
        self.max_attempts = max_attempts

    async def call(self, make: Callable[[], Awaitable[T]]) -> T:
        """Run one Bot API call; wait out 429s and retry 5xx / network errors with backoff (bounded)."""
        delay = 1.0
        for attempt in range(1, self.max_attempts + 1):
            try:
                return await make()
            except TelegramRetryAfter as exc:
                if attempt == self.max_attempts:
                    raise
                log.warning("telegram 429: waiting %s s (attempt %d)", exc.retry_after, attempt)
                await asyncio.sleep(exc.retry_after)
            except (TelegramServerError, TelegramNetworkError) as exc:
                if attempt == self.max_attempts:
                    raise
                log.warning("telegram %s: retrying in %.0f s (attempt %d)", type(exc).__name__, delay, attempt)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)
        raise AssertionError("unreachable")

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
