"""Wire schemas shared by the gateway, the worker and the channel adapters.

Only data shapes live here: anything that crosses HTTP or Redis between two services.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from parley_contract.templates import placeholders_in

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


class StrictModel(BaseModel):
    """A request body: unknown fields are refused (422), never silently dropped."""

    model_config = ConfigDict(extra="forbid")


class UserIn(StrictModel):
    id: ExternalId
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    #: A BCP 47 tag; 35 characters at most (what the contact's column holds, and BCP 47's advice).
    language: (
        Annotated[str, StringConstraints(max_length=35, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")] | None
    ) = None


class MessageIn(StrictModel):
    """A customer's message as an adapter or partner posts it.

    The text limit is enforced by the gateway from its settings (default 4096 characters).
    """

    channel: Channel
    chat_id: ExternalId
    user: UserIn
    text: Annotated[str, StringConstraints(min_length=1)]
    #: Partners: where to POST the finished task (signed); default: the API key's callback_url.
    callback_url: AnyHttpUrl | None = None


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


#: How an answer was made, in the order the worker tries: composed from the product rows (catalog),
#: a stored question/answer pair (curated), written by a model and checked against its sources
#: (generated), the best sentences of the best excerpt (extractive), or "I don't know" (fallback).
AnswerPath = Literal["catalog", "curated", "generated", "extractive", "fallback"]


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
    #: Which way the answer was made (DESIGN.md "How an answer is made"); None: before issue #16.
    answer_path: AnswerPath | None = None


class TaskOut(BaseModel):
    task_id: str
    conversation_id: str
    status: TaskStatus
    answer: str | None = None
    sources: list[Source] = Field(default_factory=list)
    error: str | None = None
    timings: Timings = Field(default_factory=Timings)
    #: The tenant's prompt version the answer was made with (None: the built-in default).
    prompt_version: int | None = None
    created_at: datetime
    finished_at: datetime | None = None
    #: Set when this message was answered together with later messages of the same conversation,
    #: sent within the burst window, as one turn: the id of the task whose answer covers it. The
    #: answer (or error) is copied here when that task finishes; no separate reply is sent for it.
    merged_into: str | None = None
    #: The answer was the honest fallback (Parley did not have the information): a person should reply.
    #: Which way answered is `timings.answer_path`.
    needs_person: bool = False


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


class FeedbackIn(StrictModel):
    """A customer's verdict on one answer (the 👍/👎 buttons)."""

    rating: FeedbackRating
    comment: Annotated[str, StringConstraints(max_length=1000)] | None = None


class FeedbackOut(BaseModel):
    message_id: str
    task_id: str | None
    rating: FeedbackRating
    comment: str | None = None
    created_at: datetime


class ConversationReset(StrictModel):
    """Close the chat's open conversation: the next message starts a new one (/reset)."""

    channel: Channel
    chat_id: ExternalId


class ConversationResetOut(BaseModel):
    closed: int


class ChannelSettings(BaseModel):
    """What a channel adapter may read of its tenant's settings (the /start greeting)."""

    business_name: str
    greeting: str | None = None


class SearchRequest(StrictModel):
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
    """Per-tenant settings (admin API `PUT /api/v1/admin/tenants/{id}/settings`); the worker applies
    the answer settings, the gateway the quotas, channel adapters the greeting."""

    business_name: str = "our shop"
    #: Shown by channel bots on /start; None: a default greeting naming the business.
    greeting: str | None = None
    #: Superseded by prompt versions: used only while the tenant has no active version.
    system_prompt: str | None = None

    @field_validator("system_prompt")
    @classmethod
    def _system_prompt_is_a_template(cls, value: str | None) -> str | None:
        # The worker fills it in like a prompt version: the same placeholders, nothing evaluated.
        if value is not None:
            placeholders_in(value)
        return value

    #: Which of the worker's providers leads the chain for this tenant ("llamacpp" or "openai"),
    #: and the model to ask a hosted provider for; None: the worker's own configuration.
    provider: Literal["llamacpp", "openai"] | None = None
    model: str | None = None
    top_k: int = Field(default=4, ge=1, le=50)
    temperature: float = Field(default=0.2, ge=0, le=2)
    max_answer_tokens: int = Field(default=256, ge=1, le=8192)
    history_turns: int = Field(default=6, ge=0, le=50)
    #: Languages the business answers in (codes such as "en", "ar"); empty: any.
    languages: list[str] = Field(default_factory=list)
    #: Told to customers who ask when someone is there, e.g. "Sat–Thu 10:00–22:00 GST".
    working_hours: str | None = None
    #: Daily quotas (UTC days); None: unlimited.
    daily_message_quota: int | None = Field(default=None, ge=0)
    daily_token_quota: int | None = Field(default=None, ge=0)
    #: Messages of this tenant queued or being answered at once (more: 429); None: the gateway's
    #: TENANT_MAX_TASKS_IN_FLIGHT.
    max_tasks_in_flight: int | None = Field(default=None, ge=0, le=1_000_000)


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
    #: The tenant's active prompt version (text and number); None: the built-in default prompt.
    prompt: str | None = None
    prompt_version: int | None = None
    request_id: str | None = None
    #: The claim holds for this long; the worker renews it (`TaskLease`) well before it runs out.
    lease_seconds: int = 600


class TaskLease(BaseModel):
    """A worker renewing its hold on a task; only the attempt that claimed it may."""

    attempt: int


class TaskNotReady(BaseModel):
    """The claim's `425 Too Early`: the task must wait; the worker ends the job, the gateway puts it back.

    reason: `earlier_pending` (an earlier message of the conversation is not answered yet),
    `burst_open` (the newest message may be followed by more within the burst window),
    `superseded` (a newer message of the burst will answer it), `changed` (look again shortly).
    """

    reason: str
    detail: str


class TaskCompletion(BaseModel):
    answer: str
    sources: list[Source]
    timings: Timings
    #: Parley could not answer from the business's data (the honest fallback): a person should.
    needs_person: bool = False
    #: The claim's attempt: a worker whose task was claimed again since cannot finish it. None: any holder.
    attempt: int | None = None


class TaskFailure(BaseModel):
    error: str
    timings: Timings = Field(default_factory=Timings)
    attempt: int | None = None


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
    request_id: str | None = None
    #: Earlier tasks of a burst that this reply answers too (they get no reply event of their own).
    merged_task_ids: list[str] = Field(default_factory=list)
