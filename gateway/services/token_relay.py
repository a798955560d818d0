"""Relaying an answer to a streaming OpenAI-compatible client as the worker makes it.

The worker appends the answer's pieces to a Redis stream per task (`task_tokens_stream`); this
relays them as `chat.completion.chunk` events, then ends with whatever the stored answer adds
(the grounding check may have replaced it). The stored answer is the truth: if it does not
continue what was streamed, the stream ends with an error pointing at the task.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from gateway.deps import AppState
from gateway.models import Task
from gateway.services.openai_compat import OpenAIError, chunk
from parley_contract.names import task_tokens_stream
from parley_contract.schemas import TaskStatus

log = logging.getLogger(__name__)

ReadTask = Callable[[], Awaitable[Task]]


def sse(data: dict[str, Any] | str) -> bytes:
    return f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n".encode()


@dataclass
class StreamedText:
    """What the client has been sent of an answer, from the worker's token-stream entries."""

    #: Sent so far, without leading whitespace (the stored answer is stripped).
    sent: str = ""
    #: Trailing whitespace held back until more text follows.
    held: str = ""
    attempt: str | None = None
    #: The answer started over after part of it was sent: from then on the stored answer decides.
    restarted: bool = False
    last_id: str = "0-0"

    def take(self, entries: Any) -> str:
        """The new text to send for these XREAD entries ("" for none)."""
        pieces: list[str] = []
        for _stream, items in entries:
            for entry_id, fields in items:
                self.last_id = entry_id
                piece_attempt = fields.get(b"attempt", b"").decode()
                if piece_attempt != self.attempt:
                    # A retry (of the LLM or the job) starts the answer over: follow it while
                    # nothing has been sent; otherwise stop relaying, the client cannot unread.
                    self.restarted = self.restarted or bool(self.sent)
                    self.attempt, pieces, self.held = piece_attempt, [], ""
                if not self.restarted:
                    pieces.append(fields.get(b"text", b"").decode())
        text = self.held + "".join(pieces)
        if not self.sent:
            text = text.lstrip()
        stripped = text.rstrip()
        self.held = text[len(stripped) :]
        self.sent += stripped
        return stripped


def ending(task: Task, *, streamed: StreamedText, model: str) -> list[bytes]:
    """The last events once the task is finished: the rest of the stored answer, or why not."""
    if task.status == TaskStatus.failed:
        return [sse(OpenAIError(502, f"the answer failed: {task.error}", type="server_error").body())]
    answer, sent = task.answer or "", streamed.sent
    if not answer.startswith(sent):
        log.warning("task %s: the answer started over after part of it was streamed", task.id)
        restarted = OpenAIError(
            502,
            f"the answer was regenerated after part of it was streamed; read it whole from GET /api/v1/tasks/{task.id}",
            type="server_error",
            code="answer_restarted",
        )
        return [sse(restarted.body())]
    rest = [sse(chunk(task.id, model=model, delta={"content": answer[len(sent) :]}))] if len(answer) > len(sent) else []
    return [*rest, sse(chunk(task.id, model=model, delta={}, finish_reason="stop")), sse("[DONE]")]


async def relay(state: AppState, *, task_id: str, model: str, read_task: ReadTask) -> AsyncIterator[bytes]:
    """Relay the worker's pieces as chunks until the task is finished; the stored answer is the truth at the end."""
    key = task_tokens_stream(task_id)
    yield sse(chunk(task_id, model=model, delta={"role": "assistant", "content": ""}))
    streamed = StreamedText()
    deadline = time.monotonic() + state.settings.openai_wait_seconds
    async with state.events.subscription(task_id) as finished_event:
        while True:
            done = finished_event.is_set()
            task = await read_task() if done else None
            try:
                entries: Any = await state.redis.xread({key: streamed.last_id}, count=500, block=None if done else 250)
            except Exception:  # the stored answer still arrives at the end
                log.warning("could not read %s", key, exc_info=True)
                entries = []
                await asyncio.sleep(0.25)
            text = streamed.take(entries)
            if text:
                yield sse(chunk(task_id, model=model, delta={"content": text}))
            if task is not None:
                for event in ending(task, streamed=streamed, model=model):
                    yield event
                return
            if time.monotonic() > deadline:
                yield sse(OpenAIError(504, "the answer took too long", type="timeout").body())
                return
            if not entries and (await read_task()).status in (TaskStatus.done, TaskStatus.failed):
                # Look at the database now and then too: a missed pub/sub event must not hang us.
                finished_event.set()
