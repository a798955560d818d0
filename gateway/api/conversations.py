from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlmodel import col, select

from gateway.deps import ConversationsReader, SessionDep
from gateway.models import Conversation, Message
from parley_contract.schemas import Role, Transcript, TranscriptMessage

router = APIRouter(prefix="/api/v1", tags=["conversations"])


@router.get("/conversations/{conversation_id}/messages", response_model=Transcript)
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
