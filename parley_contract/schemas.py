"""Wire schemas shared by the gateway, the worker and the channel adapters.

Only data shapes live here: anything that crosses HTTP or Redis between two services.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

DEFAULT_MAX_TEXT_CHARS = 4096

Channel = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class TaskStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class Role(StrEnum):
    user = "user"
    assistant = "assistant"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserIn(_Strict):
    id: ExternalId
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    language: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")] | None = None


class MessageIn(_Strict):
    """A customer's message as an adapter or partner posts it.

    The text limit is enforced by the gateway from its settings (default 4096 characters).
    """

    channel: Channel
    chat_id: ExternalId
    user: UserIn
    text: Annotated[str, StringConstraints(min_length=1)]


class MessageAccepted(BaseModel):
    task_id: str
    conversation_id: str
    status: TaskStatus


class Source(BaseModel):
    document: str
    document_id: str | None = None
    chunk_id: str
    score: float
    excerpt: str


class Timings(BaseModel):
    queue_wait_ms: float | None = None
    retrieval_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    #: Prompt evaluation: from the request to the model until its first token.
    time_to_first_token_ms: float | None = None
    generation_ms: float | None = None
    #: Decoding speed after the first token.
    tokens_per_s: float | None = None
    total_ms: float | None = None
    #: Which provider of the chain answered, and after how many attempts.
    provider: str | None = None
    llm_attempts: int | None = None


class TaskOut(BaseModel):
    task_id: str
    conversation_id: str
    status: TaskStatus
    answer: str | None = None
    sources: list[Source] = Field(default_factory=list)
    error: str | None = None
    timings: Timings = Field(default_factory=Timings)
    created_at: datetime
    finished_at: datetime | None = None


class TranscriptMessage(BaseModel):
    id: str
    role: Role
    text: str
    task_id: str | None = None
    created_at: datetime


class Transcript(BaseModel):
    conversation_id: str
    channel: str
    chat_id: str
    messages: list[TranscriptMessage]


class FeedbackRating(StrEnum):
    up = "up"
    down = "down"


class FeedbackIn(_Strict):
    """A customer's verdict on one answer (the 👍/👎 buttons)."""

    rating: FeedbackRating
    comment: Annotated[str, StringConstraints(max_length=1000)] | None = None


class FeedbackOut(BaseModel):
    message_id: str
    task_id: str | None
    rating: FeedbackRating
    comment: str | None = None
    created_at: datetime


class ConversationReset(_Strict):
    """Close the chat's open conversation: the next message starts a new one (/reset)."""

    channel: Channel
    chat_id: ExternalId


class ConversationResetOut(BaseModel):
    closed: int


class ChannelSettings(BaseModel):
    """What a channel adapter may read of its tenant's settings (the /start greeting)."""

    business_name: str
    greeting: str | None = None


class SearchRequest(_Strict):
    query: Annotated[str, StringConstraints(min_length=1, max_length=DEFAULT_MAX_TEXT_CHARS)]
    top_k: int = Field(default=5, ge=1, le=50)


class SearchHit(BaseModel):
    document: str
    document_id: str | None = None
    chunk_id: str
    score: float
    excerpt: str


class SearchResponse(BaseModel):
    query: str
    hits: list[SearchHit]
    took_ms: float


DocumentStatus = Literal["queued", "ingesting", "ready", "failed", "deleting"]


class DocumentOut(BaseModel):
    id: str
    name: str
    content_type: str
    size_bytes: int
    sha256: str
    status: DocumentStatus
    chunk_count: int
    error: str | None = None
    created_at: datetime
    updated_at: datetime


class DocumentAccepted(BaseModel):
    document_id: str
    status: DocumentStatus
    changed: bool


# ---- gateway <-> worker (internal API) ----


class HistoryTurn(BaseModel):
    role: Role
    text: str


class TenantSettings(BaseModel):
    """Per-tenant answer settings the worker applies; later issues add prompt versions."""

    business_name: str = "our shop"
    #: Shown by channel bots on /start; None: a default greeting naming the business.
    greeting: str | None = None
    system_prompt: str | None = None
    top_k: int = 4
    temperature: float = 0.2
    max_answer_tokens: int = 256
    history_turns: int = 6


class TaskClaim(BaseModel):
    task_id: str
    tenant_id: str
    conversation_id: str
    text: str
    language: str | None = None
    history: list[HistoryTurn]
    settings: TenantSettings
    attempt: int
    queue_wait_ms: float


class TaskCompletion(BaseModel):
    answer: str
    sources: list[Source]
    timings: Timings


class TaskFailure(BaseModel):
    error: str
    timings: Timings = Field(default_factory=Timings)


class DocumentIngested(BaseModel):
    status: Literal["ready", "failed"]
    chunk_count: int = 0
    error: str | None = None


class ReplyEvent(BaseModel):
    """Published on the channel's reply stream when a task finishes (done or failed)."""

    task_id: str
    tenant_id: str
    conversation_id: str
    channel: str
    chat_id: str
    status: TaskStatus
    answer: str | None = None
    error: str | None = None
