"""Tables. Every row belongs to a tenant; ids are UUID strings so both databases agree."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything Parley stores is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class Tenant(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    #: Signs the tenant's callbacks (HMAC-SHA256); kept in clear because signing needs it.
    callback_secret: str | None = Field(default=None, max_length=128)
    #: The prompt version the worker answers with; None: the built-in default prompt.
    active_prompt_id: str | None = Field(default=None, max_length=32)
    #: A disabled tenant's keys are refused (401).
    disabled_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class ApiKey(SQLModel, table=True):
    """A partner's or service's key: only its SHA-256 is stored; the key itself is shown once."""

    __tablename__ = "api_key"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=64)
    name: str = Field(max_length=200)
    #: The first characters of the key, to tell keys apart in listings.
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True)
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: Requests per minute for this key; None: the gateway's default.
    rate_limit_per_minute: int | None = None
    #: Where finished tasks of this key are POSTed when a request names no callback_url.
    callback_url: str | None = Field(default=None, max_length=2048)
    #: Set for the keys that come from the environment (SERVICE_TOKEN, ADMIN_TOKEN, WORKER_TOKEN).
    managed: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    last_used_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class PromptVersion(SQLModel, table=True):
    """One version of a tenant's system prompt; versions are numbered 1, 2, … per tenant."""

    __tablename__ = "prompt_version"
    __table_args__ = (UniqueConstraint("tenant_id", "version"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=64)
    version: int
    text: str
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    #: When it was last made active (roll back returns to the one active before the current).
    activated_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class Contact(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("tenant_id", "channel", "external_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=64)
    channel: str = Field(max_length=32)
    external_id: str = Field(max_length=128)
    name: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, max_length=35)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class Conversation(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=64)
    contact_id: str = Field(foreign_key="contact.id", index=True, max_length=32)
    channel: str = Field(max_length=32)
    chat_id: str = Field(max_length=128)
    #: Only one open conversation per chat; /reset closes it (POST /api/v1/conversations/reset).
    is_open: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class Message(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=64)
    conversation_id: str = Field(foreign_key="conversation.id", index=True, max_length=32)
    role: str = Field(max_length=16)
    text: str
    task_id: str | None = Field(default=None, index=True, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class Task(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("tenant_id", "idempotency_key"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=64)
    conversation_id: str = Field(foreign_key="conversation.id", index=True, max_length=32)
    message_id: str = Field(foreign_key="message.id", max_length=32)
    idempotency_key: str = Field(max_length=255)
    status: str = Field(default="queued", index=True, max_length=16)
    answer: str | None = None
    sources: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    timings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = None
    attempts: int = 0
    #: SHA-256 of the request that created the task: the same Idempotency-Key with another body is a 409.
    request_hash: str | None = Field(default=None, max_length=64)
    #: The API key that posted the message (its default callback_url and limits apply).
    api_key_id: str | None = Field(default=None, max_length=32)
    callback_url: str | None = Field(default=None, max_length=2048)
    #: The prompt version the answer was made with (None: the built-in default).
    prompt_version: int | None = None
    request_id: str | None = Field(default=None, max_length=64)
    #: An operator discarded this failed task (hidden from the failed-jobs list).
    discarded_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    #: A running task's claim holds until then; the worker renews it while it generates.
    lease_expires_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    #: When the finished task's reply event reached its channel's stream (None: still owed).
    reply_published_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    #: Answered as one turn together with this (later) task of the same conversation.
    merged_into: str | None = Field(default=None, max_length=32)
    #: The answer was the honest fallback: the knowledge base did not hold it and a person should reply.
    needs_person: bool = Field(default=False, index=True)


class Document(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=64)
    name: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size_bytes: int
    sha256: str = Field(max_length=64)
    status: str = Field(default="queued", max_length=16)
    chunk_count: int = 0
    error: str | None = None
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class Product(SQLModel, table=True):
    """A row of a tenant's catalog, written by the worker from a catalog document (upsert by SKU)."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("tenant_id", "sku"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=64)
    #: No foreign key: the rows are removed with their document, and a SKU moves to the document that last listed it.
    document_id: str = Field(index=True, max_length=32)
    #: The ingestion that last wrote the row: rows of the document an ingestion did not write are removed.
    generation: str = Field(max_length=32)
    sku: str = Field(max_length=100)
    name: str = Field(max_length=300)
    price: str | None = Field(default=None, max_length=50)
    currency: str | None = Field(default=None, max_length=10)
    stock: int | None = None
    in_stock: bool | None = None
    category: str | None = Field(default=None, max_length=200)
    attributes: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class Feedback(SQLModel, table=True):
    """One rating per assistant message; a second click replaces the first."""

    __table_args__ = (UniqueConstraint("tenant_id", "message_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=64)
    message_id: str = Field(foreign_key="message.id", max_length=32)
    task_id: str | None = Field(default=None, index=True, max_length=32)
    rating: str = Field(max_length=8)
    comment: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class CallbackDelivery(SQLModel, table=True):
    """One signed POST of a finished task to a partner's callback_url, retried with backoff."""

    __tablename__ = "callback_delivery"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=64)
    task_id: str = Field(index=True, max_length=32)
    url: str = Field(max_length=2048)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    #: pending → delivered | failed (after the last attempt)
    status: str = Field(default="pending", index=True, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )
    last_error: str | None = Field(default=None, max_length=1000)
    last_status_code: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


# --- Curated answers (issue #16) ---


class CuratedAnswer(SQLModel, table=True):
    """A question → answer pair answered as written: extracted from a FAQ document or made by staff."""

    __tablename__ = "curated_answers"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=64)
    question: str = Field(max_length=1000)
    answer: str
    #: The document id it was extracted from (replaced on re-ingestion, removed with the document), or "staff".
    source: str = Field(default="staff", index=True, max_length=32)
    #: Who made or last changed it: the API key's name for staff, "ingestion" for a document's pairs.
    updated_by: str | None = Field(default=None, max_length=200)
    #: The task whose answer this one corrects ("correct this answer"), if any.
    task_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
