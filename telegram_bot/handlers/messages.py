"""A customer's text: handed to the gateway; the answer comes back through the reply stream."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import Message

from parley_contract.logging import bound_request_id, new_request_id
from telegram_bot.store import PendingMessage, Store
from telegram_bot.submit import Submitter, idempotency_key

router = Router(name="messages")


async def submit_text(message: Message, text: str, *, bot: Bot, store: Store, submitter: Submitter) -> None:
    user = message.from_user
    language = await store.language(message.chat.id) or (user.language_code if user else None)
    pending = PendingMessage(
        key=idempotency_key(bot.id, message.chat.id, message.message_id),
        chat_id=message.chat.id,
        message_id=message.message_id,
        user_id=str(user.id if user else message.chat.id),
        name=user.full_name[:200] if user else None,
        language=language,
        text=text,
    )
    with bound_request_id(new_request_id()):  # sent to the gateway as X-Request-ID
        await submitter.submit(pending, first=True)


@router.message(F.text)
async def on_text(message: Message, bot: Bot, store: Store, submitter: Submitter) -> None:
    assert message.text is not None
    await submit_text(message, message.text, bot=bot, store=store, submitter=submitter)
