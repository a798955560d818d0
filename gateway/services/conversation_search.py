"""Search a tenant's conversations and export their transcripts (JSON or CSV)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.models import Conversation, Message, as_utc
from gateway.services.csv_export import csv_document

CSV_COLUMNS = ["created_at", "role", "text", "task_id"]


@dataclass(frozen=True)
class SearchFilters:
    #: A substring of any message of the conversation (case-insensitive).
    text: str | None = None
    channel: str | None = None
    chat_id: str | None = None
    #: The conversation had messages at or after `since` and before `until`.
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class ConversationHit:
    conversation: Conversation
    message_count: int
    user_message_count: int
    first_message_at: datetime
    last_message_at: datetime


def _utc(value: datetime, *, naive: bool) -> datetime:
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    # SQLite keeps datetimes as naive UTC text: compare like with like.
    return value.replace(tzinfo=None) if naive else value


async def search(
    session: AsyncSession, *, tenant_id: str, filters: SearchFilters, limit: int, offset: int
) -> tuple[list[ConversationHit], int]:
    """Matching conversations, the most recently active first, and how many match."""
    naive = session.get_bind().dialect.name == "sqlite"
    stats = (
        sa_select(
            col(Message.conversation_id).label("conversation_id"),
            func.count().label("message_count"),
            func.sum(case((col(Message.role) == "user", 1), else_=0)).label("user_count"),
            func.min(Message.created_at).label("first_at"),
            func.max(Message.created_at).label("last_at"),
        )
        .where(col(Message.tenant_id) == tenant_id)
        .group_by(col(Message.conversation_id))
        .subquery()
    )
    conditions: list[Any] = [col(Conversation.tenant_id) == tenant_id]
    if filters.channel:
        conditions.append(col(Conversation.channel) == filters.channel)
    if filters.chat_id:
        conditions.append(col(Conversation.chat_id) == filters.chat_id)
    if filters.since:
        conditions.append(stats.c.last_at >= _utc(filters.since, naive=naive))
    if filters.until:
        conditions.append(stats.c.first_at < _utc(filters.until, naive=naive))
    if filters.text:
        matching = select(col(Message.conversation_id)).where(
            col(Message.tenant_id) == tenant_id,
            func.lower(col(Message.text)).contains(filters.text.lower(), autoescape=True),
        )
        conditions.append(col(Conversation.id).in_(matching))
    joined = sa_select(Conversation, stats.c.message_count, stats.c.user_count, stats.c.first_at, stats.c.last_at).join(
        stats, stats.c.conversation_id == Conversation.id
    )
    total = (
        await session.exec(
            select(func.count())
            .select_from(Conversation)
            .join(stats, stats.c.conversation_id == Conversation.id)
            .where(*conditions)
        )
    ).one()
    rows = await session.exec(  # type: ignore[call-overload]
        joined.where(*conditions).order_by(stats.c.last_at.desc(), col(Conversation.id)).limit(limit).offset(offset)
    )
    hits = [
        ConversationHit(
            conversation=conversation,
            message_count=int(count),
            user_message_count=int(users or 0),
            first_message_at=as_utc(first_at) if isinstance(first_at, datetime) else datetime.fromisoformat(first_at),
            last_message_at=as_utc(last_at) if isinstance(last_at, datetime) else datetime.fromisoformat(last_at),
        )
        for conversation, count, users, first_at, last_at in rows.all()
    ]
    return hits, int(total)


async def get_conversation(session: AsyncSession, *, tenant_id: str, conversation_id: str) -> Conversation | None:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.tenant_id != tenant_id:
        return None
    return conversation


async def messages_of(session: AsyncSession, *, conversation_ids: list[str]) -> dict[str, list[Message]]:
    """Each conversation's messages in order (a question before its answer)."""
    found: dict[str, list[Message]] = {cid: [] for cid in conversation_ids}
    if not conversation_ids:
        return found
    rows = await session.exec(
        select(Message)
        .where(col(Message.conversation_id).in_(conversation_ids))
        .order_by(col(Message.created_at), col(Message.role).desc())
    )
    for message in rows.all():
        found[message.conversation_id].append(message)
    return found


def transcript_csv(rows: list[tuple[Conversation, list[Message]]], *, with_conversation: bool) -> str:
    """CSV with a header row (chat ids and texts that look like formulas are defused: `csv_document`)."""
    prefix = ["conversation_id", "channel", "chat_id"] if with_conversation else []
    lines: list[list[object]] = []
    for conversation, messages in rows:
        head = [conversation.id, conversation.channel, conversation.chat_id] if with_conversation else []
        for m in messages:
            lines.append([*head, as_utc(m.created_at).isoformat(), m.role, m.text, m.task_id or ""])
    return csv_document(prefix + CSV_COLUMNS, lines)
