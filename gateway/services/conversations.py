"""Conversation lifecycle: a chat's open conversation is closed on request (/reset)."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.models import Conversation


async def close_open_conversations(session: AsyncSession, *, tenant_id: str, channel: str, chat_id: str) -> int:
    """Close the chat's open conversation(s); the next message opens a new one. Returns how many closed."""
    result = await session.exec(
        update(Conversation)
        .where(
            col(Conversation.tenant_id) == tenant_id,
            col(Conversation.channel) == channel,
            col(Conversation.chat_id) == chat_id,
            col(Conversation.is_open).is_(True),
        )
        .values(is_open=False)
    )
    await session.commit()
    return int(result.rowcount)
