"""Sending to Telegram within its limits: 429 retry_after honoured, 5xx retried, HTML with a plain fallback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup, Message, ReplyParameters

from telegram_bot.formatting import plain_text, to_telegram_html

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

    async def send_answer(
        self, chat_id: int, text: str, *, reply_to: int | None = None, markup: InlineKeyboardMarkup | None = None
    ) -> Message:
        """Send model text as Telegram HTML; if Telegram cannot parse it, send it as plain text."""
        reply = ReplyParameters(message_id=reply_to, allow_sending_without_reply=True) if reply_to else None
        try:
            return await self.call(
                lambda: self.bot.send_message(
                    chat_id, to_telegram_html(text), parse_mode="HTML", reply_parameters=reply, reply_markup=markup
                )
            )
        except TelegramBadRequest as exc:
            if "parse entities" not in exc.message.lower():
                raise
            log.warning("telegram refused the HTML (%s); sending plain text", exc.message)
        return await self.call(
            lambda: self.bot.send_message(
                chat_id, plain_text(text), parse_mode=None, reply_parameters=reply, reply_markup=markup
            )
        )

    async def send_notice(self, chat_id: int, text: str, *, reply_to: int | None = None) -> Message:
        """One of the bot's own short texts (no markup)."""
        reply = ReplyParameters(message_id=reply_to, allow_sending_without_reply=True) if reply_to else None
        return await self.call(lambda: self.bot.send_message(chat_id, text, parse_mode=None, reply_parameters=reply))
