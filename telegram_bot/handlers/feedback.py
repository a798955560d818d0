"""👍/👎 under answers, stored through the gateway."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import CallbackQuery

from telegram_bot import texts
from telegram_bot.callbacks import FeedbackData
from telegram_bot.gateway_client import GatewayClient, GatewayRejected, GatewayUnavailable

log = logging.getLogger(__name__)

router = Router(name="feedback")


@router.callback_query(FeedbackData.filter())
async def rate_answer(query: CallbackQuery, callback_data: FeedbackData, gateway: GatewayClient) -> None:
    try:
        await gateway.feedback(task_id=callback_data.task_id, rating=callback_data.rating)
    except (GatewayUnavailable, GatewayRejected) as exc:
        log.warning("feedback for task %s not stored: %s", callback_data.task_id, exc)
        await query.answer(texts.FEEDBACK_LATER)
        return
    await query.answer(texts.FEEDBACK_THANKS)
