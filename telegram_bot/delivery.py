"""Delivering finished answers: a consumer group on the `telegram` reply stream.

The gateway appends every finished task of this channel to `parley:replies:telegram`. The bot reads
it through the consumer group `telegram_bot`: an entry stays pending until the answer is in the
chat and the bot XACKs it (`parley_contract.runtime.streams`, the WhatsApp adapter's consumer too):
its own pending entries first, after a crash or restart and after a failed delivery; entries another
consumer left unacknowledged for `reclaim_idle_seconds` are taken over (XAUTOCLAIM). Entries
published while the bot was down simply wait in the stream.

Exactly once: a delivery marker per task (`delivered:<task>`) is checked before and set after
sending; a short SET NX lock keeps two consumers from sending the same task at once; each part of a
split answer is recorded as it is sent, so a redelivery sends only the parts still missing. The one
window left is a crash between Telegram accepting a part and Redis recording it: that single part
would be sent again after a restart (Telegram's sendMessage has no idempotency key).

Parts are cut on the HTML actually sent (`formatting.split_html`). A part Telegram refuses (any 400,
not a 429 or 5xx, which the sender retries) is sent again as plain text, in pieces if its plain text
is longer; pieces are recorded like parts. The delivery marker means every part is in the chat: an
answer Telegram will not take (chat unreachable, text refused even as plain text) is logged as not
delivered and settled without it.
"""

from __future__ import annotations

import asyncio
import html
import logging
import time
import uuid
from typing import Any

from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramNotFound
from aiogram.types import InlineKeyboardMarkup
from pydantic import ValidationError
from redis.asyncio import Redis

from parley_contract.logging import bound_request_id
from parley_contract.names import reply_stream
from parley_contract.runtime.streams import StreamConsumer
from parley_contract.schemas import ReplyEvent, TaskStatus
from telegram_bot import texts
from telegram_bot.callbacks import feedback_keyboard
from telegram_bot.formatting import html_to_plain, split_html, split_plain, to_telegram_html
from telegram_bot.sender import Sender
from telegram_bot.store import ReplyTarget, Store
from telegram_bot.typing_indicator import TypingIndicator

log = logging.getLogger(__name__)

GROUP = "telegram_bot"
CHANNEL = "telegram"


class ReplyDelivery:
    def __init__(
        self,
        *,
        redis: Redis,
        store: Store,
        sender: Sender,
        typing: TypingIndicator,
        consumer: str,
        split_pause_seconds: float,
        reclaim_idle_seconds: float,
        target_wait_seconds: float = 10.0,
    ) -> None:
        self.store = store
        self.sender = sender
        self.typing = typing
        self.consumer = consumer
        self.instance = uuid.uuid4().hex[:12]  # this run of the consumer
        self.split_pause = split_pause_seconds
        self.target_wait = target_wait_seconds
        self.stream = reply_stream(CHANNEL)
        # Entries of different chats are delivered at once; one chat's parts stay in order within deliver().
        self._consumer = StreamConsumer(
            redis,
            stream=self.stream,
            group=GROUP,
            consumer=consumer,
            handle=self._handle_entry,
            claim_idle_ms=int(reclaim_idle_seconds * 1000),
            concurrent=True,
        )

    async def run(self) -> None:
        await self._consumer.run()

    def stop(self) -> None:
        """Return from `run` after the batch being delivered; what was read but not begun stays pending."""
        self._consumer.stop()

    @property
    def busy(self) -> bool:
        """True while a batch is being delivered: `stop()` then lets it finish rather than cut a send."""
        return self._consumer.handling

    async def _handle_entry(self, entry_id: Any, fields: dict[Any, Any]) -> bool:
        """True: settled (acked); False or an exception: it stays pending and is retried."""
        raw = fields.get(b"event", fields.get("event"))
        try:
            event = ReplyEvent.model_validate_json(raw or b"")
        except ValidationError:
            log.error("unreadable reply entry %s: acknowledged and dropped", _id(entry_id))
            return True
        with bound_request_id(event.request_id):
            return await self.deliver(event)

    async def deliver(self, event: ReplyEvent) -> bool:
        """Send the task's answer (or an apology) once. True when nothing is left to do."""
        task_id = event.task_id
        if await self.store.is_delivered(task_id):
            self.typing.stop(task_id)
            await self._settle_merged(event)
            return True
        if not await self.store.lock_delivery(task_id, consumer=self.consumer, instance=self.instance):
            return False  # another consumer is sending it; if it dies, the entry is reclaimed later
        try:
            target = await self._target(event)
            if target is None:
                log.error("task %s has no usable chat id: dropped", task_id)
                return True
            parts, with_buttons = _parts(event)
            refused = await self._send_parts(task_id, target, parts, with_buttons=with_buttons)
            self.typing.stop(task_id)
            if refused is not None:
                # Not marked delivered: the marker means every part is in the chat. Retrying cannot help
                # (the chat is unreachable or Telegram refused the text itself), so the entry is settled.
                log.error("task %s NOT delivered (status %s): %s", task_id, event.status, refused)
                for merged_id in event.merged_task_ids:
                    self.typing.stop(merged_id)
                return True
            await self.store.mark_delivered(task_id)
            await self._settle_merged(event)
            log.info("task %s delivered (%d part(s), status %s)", task_id, len(parts), event.status)
            return True
        finally:
            await self.store.unlock_delivery(task_id)

    async def _send_parts(
        self, task_id: str, target: ReplyTarget, parts: list[str], *, with_buttons: bool
    ) -> str | None:
        """Send, in order, the parts not sent yet. None once every part is in the chat; else why not."""
        sent = await self.store.sent_parts(task_id)
        for index, part in enumerate(parts):
            if index in sent:
                continue
            if index > 0:
                await asyncio.sleep(self.split_pause)  # about one message per second per chat
            last = index == len(parts) - 1
            try:
                message_id = await self._send_part(
                    task_id,
                    index,
                    part,
                    chat_id=target.chat_id,
                    reply_to=target.message_id if index == 0 and target.message_id else None,
                    markup=feedback_keyboard(task_id) if with_buttons and last else None,
                )
            except (TelegramForbiddenError, TelegramNotFound, TelegramBadRequest) as exc:
                return f"Telegram refused part {index + 1} of {len(parts)} ({exc.message}); {len(sent)} part(s) sent"
            await self.store.mark_part_sent(task_id, index, message_id)
            sent[index] = message_id
        return None

    async def _send_part(
        self,
        task_id: str,
        index: int,
        part: str,
        *,
        chat_id: int,
        reply_to: int | None,
        markup: InlineKeyboardMarkup | None,
    ) -> int:
        """One part as HTML; if Telegram refuses it (anything but a wait or a server error, which the
        sender retries), as plain text, in as many pieces as that needs. Returns the last message id."""
        pieces_sent = await self.store.sent_pieces(task_id, index)
        if not pieces_sent:  # a part already begun as plain text goes on as plain text
            try:
                return (await self.sender.send_html(chat_id, part, reply_to=reply_to, markup=markup)).message_id
            except TelegramBadRequest as exc:
                log.warning(
                    "task %s: Telegram refused part %d as HTML (%s); sending it as plain text",
                    task_id,
                    index + 1,
                    exc.message,
                )
        pieces = split_plain(html_to_plain(part))
        message_id = 0
        for number, piece in enumerate(pieces):
            if number in pieces_sent:
                message_id = pieces_sent[number]
                continue
            if number > 0:
                await asyncio.sleep(self.split_pause)
            message = await self.sender.send_plain(
                chat_id,
                piece,
                reply_to=reply_to if number == 0 else None,
                markup=markup if number == len(pieces) - 1 else None,
            )
            await self.store.mark_piece_sent(task_id, index, number, message.message_id)
            message_id = message.message_id
        return message_id

    async def _settle_merged(self, event: ReplyEvent) -> None:
        """Messages of a burst answered by this reply get none of their own: end their 'typing…'
        (here and, through the delivery marker, on other replicas)."""
        for merged_id in event.merged_task_ids:
            await self.store.mark_delivered(merged_id)
            self.typing.stop(merged_id)

    async def _target(self, event: ReplyEvent) -> ReplyTarget | None:
        """Where to reply. The target is stored right after the gateway accepts the message; a very
        fast answer can arrive first, so wait for it briefly, then fall back to the chat alone."""
        deadline = time.monotonic() + self.target_wait
        while True:
            target = await self.store.target(event.task_id)
            if target is not None:
                return target
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        try:
            return ReplyTarget(chat_id=int(event.chat_id), message_id=0)
        except ValueError:
            return None


def _parts(event: ReplyEvent) -> tuple[list[str], bool]:
    """The Telegram-HTML parts to send and whether the feedback buttons go under the last one."""
    if event.status == TaskStatus.done and event.answer:
        parts = split_html(to_telegram_html(event.answer))
        if parts:
            return parts, True
    return [html.escape(texts.FAILED_ANSWER, quote=False)], False


def _id(entry_id: Any) -> str:
    return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
