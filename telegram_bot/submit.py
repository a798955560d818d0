"""Handing customers' messages to the gateway, durably.

If the gateway is unreachable or failing, the message is parked in Redis (a hash plus a sorted set
of due times) and the customer is told "I'll answer as soon as I can"; `run` retries parked
messages with exponential backoff until the gateway accepts them. The idempotency key makes every
retry safe: the gateway returns the first task for a key it has already seen.
"""

from __future__ import annotations

import logging
import time

from parley_contract.logging import bound_request_id, new_request_id
from parley_contract.runtime.loops import AsyncLoop
from parley_contract.runtime.retry import backoff_delay
from telegram_bot import texts
from telegram_bot.gateway_client import GatewayClient, GatewayRejected, GatewayUnavailable
from telegram_bot.sender import Sender
from telegram_bot.store import PendingMessage, ReplyTarget, Store
from telegram_bot.typing_indicator import TypingIndicator

log = logging.getLogger(__name__)


def idempotency_key(bot_id: int, chat_id: int, message_id: int) -> str:
    return f"telegram:{bot_id}:{chat_id}:{message_id}"


class Submitter:
    def __init__(
        self,
        *,
        gateway: GatewayClient,
        store: Store,
        sender: Sender,
        typing: TypingIndicator,
        retry_max_seconds: float,
        attempt_timeout: float,
    ) -> None:
        self.attempt_timeout = attempt_timeout
        self.gateway = gateway
        self.store = store
        self.sender = sender
        self.typing = typing
        self.retry_max = retry_max_seconds

    async def submit(self, pending: PendingMessage, *, first: bool) -> None:
        """Post to the gateway; on failure park the message for a later retry.

        A new message is parked *before* the first attempt (due after that attempt's timeout), so a
        crash while the gateway is slow to answer does not lose it: the next run re-posts it."""
        if first:
            await self.store.park(pending, due=time.time() + self.attempt_timeout + 5)
        try:
            accepted = await self.gateway.post_message(
                chat_id=str(pending.chat_id),
                user_id=pending.user_id,
                name=pending.name,
                language=pending.language,
                text=pending.text,
                key=pending.key,
            )
        except GatewayUnavailable as exc:
            pending.attempts += 1
            delay = backoff_delay(attempt=pending.attempts, initial=1.0, cap=self.retry_max)
            log.warning("gateway unavailable (%s); message %s retried in %.0f s", exc, pending.key, delay)
            await self.store.park(pending, due=time.time() + delay)
            if first:
                await self.sender.send_notice(pending.chat_id, texts.ANSWER_LATER, reply_to=pending.message_id)
            return
        except GatewayRejected as exc:
            log.error("gateway refused message %s: %s", pending.key, exc)
            await self.store.unpark(pending.key)
            await self.sender.send_notice(pending.chat_id, texts.REJECTED, reply_to=pending.message_id)
            return
        await self.store.remember_target(accepted.task_id, ReplyTarget(pending.chat_id, pending.message_id))
        await self.store.unpark(pending.key)
        if not first:
            log.info("parked message %s accepted as task %s", pending.key, accepted.task_id)
        if not await self.store.is_delivered(accepted.task_id):
            self.typing.start(accepted.task_id, pending.chat_id)

    async def retry_due(self) -> None:
        """Post again the parked messages whose time has come (a round of `parked_loop`)."""
        for pending in await self.store.due_pending(time.time()):
            with bound_request_id(new_request_id()):
                await self.submit(pending, first=False)

    def parked_loop(self) -> AsyncLoop:
        return AsyncLoop(self.retry_due, name="parked-messages", interval_seconds=1.0)
