"""The OpenAI-compatible chat completions API: request shapes, mapping to Parley messages, errors."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.models import Contact, Conversation, Message, Task, utcnow
from parley_contract.schemas import Role, TenantSettings

CHANNEL = "api"
DEFAULT_MODEL = "parley"


class OpenAIError(Exception):
    """An error answered in OpenAI's shape: {"error": {"message", "type", "code"}}."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error", code: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": None, "code": self.code}}


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIErrorOut(BaseModel):
    """What `OpenAIError.body()` sends."""

    error: OpenAIErrorDetail


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None


class ChatCompletionRequest(BaseModel):
    """OpenAI's request; parameters Parley cannot honour are refused, harmless ones ignored."""

    model_config = ConfigDict(extra="allow")
    model: str
    messages: list[ChatMessageIn]
    stream: bool = False
    user: str | None = None
    n: int | None = None
    tools: list[Any] | None = None
    functions: list[Any] | None = None
    tool_choice: Any = None
    function_call: Any = None
    response_format: dict[str, Any] | None = None
    logprobs: bool | None = None


#: Parameters refused when set (Parley answers one text from the tenant's knowledge).
def unsupported(request: ChatCompletionRequest) -> str | None:
    if request.n not in (None, 1):
        return "n > 1 is not supported: Parley makes one answer per request"
    for name in ("tools", "functions", "tool_choice", "function_call"):
        if getattr(request, name):
            return f"'{name}' is not supported: Parley answers from the tenant's knowledge, without tool calls"
    if request.response_format and request.response_format.get("type") not in (None, "text"):
        return "response_format other than 'text' is not supported"
    if request.logprobs:
        return "logprobs are not supported"
    return None


def text_of(message: ChatMessageIn) -> str:
    if message.content is None:
        return ""
    if isinstance(message.content, str):
        return message.content
    texts = []
    for part in message.content:
        if part.type != "text" or part.text is None:
            raise OpenAIError(400, f"content parts of type {part.type!r} are not supported; send text")
        texts.append(part.text)
    return "".join(texts)


def models_for(settings: TenantSettings) -> list[str]:
    """What a tenant may ask for: `parley` (its configured model) and that model by name."""
    names = [DEFAULT_MODEL]
    if settings.model and settings.model != DEFAULT_MODEL:
        names.append(settings.model)
    return names


async def store_earlier_turns(
    session: AsyncSession, *, tenant_id: str, chat_id: str, turns: list[tuple[Role, str]]
) -> None:
    """Open a new conversation for `chat_id` holding the request's earlier turns as its history."""
    contact = Contact(tenant_id=tenant_id, channel=CHANNEL, external_id=chat_id)
    session.add(contact)
    await session.flush()
    conversation = Conversation(tenant_id=tenant_id, contact_id=contact.id, channel=CHANNEL, chat_id=chat_id)
    session.add(conversation)
    await session.flush()
    # Strictly earlier than the new message, in order: the worker reads history by created_at.
    start = utcnow() - timedelta(milliseconds=len(turns) + 1)
    for position, (role, text) in enumerate(turns):
        session.add(
            Message(
                tenant_id=tenant_id,
                conversation_id=conversation.id,
                role=role,
                text=text,
                created_at=start + timedelta(milliseconds=position),
            )
        )
    await session.commit()


def new_chat_id() -> str:
    return f"openai-{uuid.uuid4().hex}"


def completion_id(task_id: str) -> str:
    return f"chatcmpl-{task_id}"


def usage(task: Task) -> dict[str, int]:
    timings = task.timings or {}
    prompt = int(timings.get("prompt_tokens") or 0)
    completion = int(timings.get("completion_tokens") or 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion(task: Task, *, model: str) -> dict[str, Any]:
    return {
        "id": completion_id(task.id),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": task.answer or ""},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": usage(task),
        "parley": {"task_id": task.id, "conversation_id": task.conversation_id},
    }


def chunk(task_id: str, *, model: str, delta: dict[str, str], finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": completion_id(task_id),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
    }
