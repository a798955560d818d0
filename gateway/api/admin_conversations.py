"""Admin API: search a tenant's conversations and export transcripts as JSON or CSV."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import Response

from gateway.deps import AdminTenant, SessionDep
from gateway.models import Conversation, Message, Tenant, as_utc
from gateway.schemas import MAX_INT, TENANT_ERRORS, ConversationHitOut, ConversationPage
from gateway.services import conversation_search
from gateway.services.conversation_search import SearchFilters
from parley_contract.schemas import Role, Transcript, TranscriptMessage

router = APIRouter(
    prefix="/api/v1/admin/tenants/{tenant_id}/conversations", tags=["admin: conversations"], responses=TENANT_ERRORS
)

Format = Literal["json", "csv"]
_EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
}


def _filters(
    q: Annotated[str | None, Query(max_length=500, description="A word or phrase of any message")] = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    chat_id: Annotated[str | None, Query(max_length=128)] = None,
    since: Annotated[datetime | None, Query(description="Active at or after (UTC if no offset)")] = None,
    until: Annotated[datetime | None, Query(description="Active before (UTC if no offset)")] = None,
) -> SearchFilters:
    return SearchFilters(text=q or None, channel=channel, chat_id=chat_id, since=since, until=until)


Filters = Annotated[SearchFilters, Depends(_filters)]


def _transcript(conversation: Conversation, messages: list[Message]) -> Transcript:
    return Transcript(
        conversation_id=conversation.id,
        channel=conversation.channel,
        chat_id=conversation.chat_id,
        messages=[
            TranscriptMessage(
                id=m.id,
                role=Role(m.role),
                text=m.text,
                task_id=m.task_id,
                created_at=as_utc(m.created_at),
            )
            for m in messages
        ],
    )


def _attachment(body: str | bytes, *, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("", response_model=ConversationPage)
async def search_conversations(
    tenant: AdminTenant,
    session: SessionDep,
    filters: Filters,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> ConversationPage:
    """Conversations matching every filter given, the most recently active first."""
    hits, total = await conversation_search.search(
        session,
        tenant_id=tenant.id,
        filters=filters,
        limit=limit,
        offset=offset,
    )
    return ConversationPage(
        items=[
            ConversationHitOut(
                conversation_id=h.conversation.id,
                channel=h.conversation.channel,
                chat_id=h.conversation.chat_id,
                is_open=h.conversation.is_open,
                message_count=h.message_count,
                user_message_count=h.user_message_count,
                first_message_at=h.first_message_at,
                last_message_at=h.last_message_at,
            )
            for h in hits
        ],
        total=total,
    )


@router.get("/export", response_model=list[Transcript], responses=_EXPORT_RESPONSES)
async def export_conversations(
    tenant: AdminTenant,
    session: SessionDep,
    filters: Filters,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    format: Format = "json",
) -> Response:
    """The transcripts of the conversations a search finds (at most `limit`), as one attachment."""
    hits, _ = await conversation_search.search(session, tenant_id=tenant.id, filters=filters, limit=limit, offset=0)
    messages = await conversation_search.messages_of(session, conversation_ids=[h.conversation.id for h in hits])
    rows = [(h.conversation, messages[h.conversation.id]) for h in hits]
    return _export(rows, tenant=tenant, format=format, name=f"{tenant.id}-conversations", many=True)


@router.get("/{conversation_id}/export", response_model=Transcript, responses=_EXPORT_RESPONSES)
async def export_conversation(
    conversation_id: str, tenant: AdminTenant, session: SessionDep, format: Format = "json"
) -> Response:
    """One conversation's transcript (CSV columns: created_at, role, text, task_id)."""
    conversation = await conversation_search.get_conversation(
        session, tenant_id=tenant.id, conversation_id=conversation_id
    )
    if conversation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no conversation {conversation_id!r}")
    messages = await conversation_search.messages_of(session, conversation_ids=[conversation.id])
    return _export(
        [(conversation, messages[conversation.id])],
        tenant=tenant,
        format=format,
        name=f"conversation-{conversation.id}",
        many=False,
    )


def _export(
    rows: list[tuple[Conversation, list[Message]]], *, tenant: Tenant, format: Format, name: str, many: bool
) -> Response:
    if format == "csv":
        body = conversation_search.transcript_csv(rows, with_conversation=many)
        return _attachment(body, media_type="text/csv; charset=utf-8", filename=f"{name}.csv")
    transcripts = [_transcript(c, m) for c, m in rows]
    data = "[" + ",".join(t.model_dump_json() for t in transcripts) + "]" if many else transcripts[0].model_dump_json()
    return _attachment(data, media_type="application/json", filename=f"{name}.json")
