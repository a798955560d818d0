from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlmodel import col, select

from gateway.deps import ConversationsReader, MessagesWriter, SessionDep
from gateway.models import Conversation, Message, Tenant
from gateway.schemas import AUTHENTICATED_ERRORS, error_responses
from gateway.services.conversations import close_open_conversations
from parley_contract.schemas import (
    ChannelSettings,
    ConversationReset,
    ConversationResetOut,
    Role,
    TenantSettings,
    Transcript,
    TranscriptMessage,
)

router = APIRouter(prefix="/api/v1", tags=["conversations"], responses=AUTHENTICATED_ERRORS)


@router.get("/conversations/{conversation_id}/messages", response_model=Transcript, responses=error_responses(404))
async def read_transcript(conversation_id: str, principal: ConversationsReader, session: SessionDep) -> Transcript:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.tenant_id != principal.tenant_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no conversation {conversation_id!r}")
    rows = await session.exec(
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(col(Message.created_at), col(Message.role).desc())
    )
    return Transcript(
        conversation_id=conversation.id,
        channel=conversation.channel,
        chat_id=conversation.chat_id,
        messages=[
            TranscriptMessage(id=m.id, role=Role(m.role), text=m.text, task_id=m.task_id, created_at=m.created_at)
            for m in rows.all()
        ],
    )


@router.post("/conversations/reset", response_model=ConversationResetOut)
async def reset_conversation(
    reset: ConversationReset, principal: MessagesWriter, session: SessionDep
) -> ConversationResetOut:
    """Close the chat's open conversation; its next message starts a new one with no history."""
    closed = await close_open_conversations(
        session, tenant_id=principal.tenant_id, channel=reset.channel, chat_id=reset.chat_id
    )
    return ConversationResetOut(closed=closed)


@router.get("/channel-settings", response_model=ChannelSettings)
async def read_channel_settings(principal: ConversationsReader, session: SessionDep) -> ChannelSettings:
    """The tenant settings a channel adapter shows customers (business name, /start greeting)."""
    tenant = await session.get(Tenant, principal.tenant_id)
    settings = TenantSettings.model_validate(tenant.settings if tenant else {})
    return ChannelSettings(business_name=settings.business_name, greeting=settings.greeting)
