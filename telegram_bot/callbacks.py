"""Inline-button payloads (callback_data, at most 64 bytes)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from parley_contract.schemas import FeedbackRating


class FeedbackData(CallbackData, prefix="fb"):
    task_id: str
    rating: FeedbackRating


class LanguageData(CallbackData, prefix="lang"):
    code: str


def feedback_keyboard(task_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text="👍", callback_data=FeedbackData(task_id=task_id, rating=FeedbackRating.up).pack()
                ),
                InlineKeyboardButton(
                    text="👎", callback_data=FeedbackData(task_id=task_id, rating=FeedbackRating.down).pack()
                ),
            ]
        ]
    )
