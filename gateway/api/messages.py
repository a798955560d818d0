from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, status
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.auth import Principal
from gateway.deps import (
    ChatGate,
    ChatGateDep,
    JobsDep,
    MessagesWriter,
    MetricsDep,
    RequestIdDep,
    SessionDep,
    SettingsDep,
    refuse_unsafe_callback_url,
)
from gateway.models import Task
from gateway.schemas import AUTHENTICATED_ERRORS, error_responses
from gateway.services.feedback import find_answer, store_feedback
from gateway.services.messages import IdempotencyConflict, accept_message, find_task_by_key
from gateway.services.quotas import Admission, QuotaExceeded
from gateway.settings import GatewaySettings
from parley_contract.schemas import FeedbackIn, FeedbackOut, MessageAccepted, MessageIn, TaskStatus

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["messages"], responses=AUTHENTICATED_ERRORS)


def _refuse_long_text(message: MessageIn, settings: GatewaySettings) -> None:
    """The text cap is a setting, so it is checked here rather than in the schema (same 422 shape)."""
    if len(message.text) > settings.max_text_chars:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [
                {
                    "loc": ["body", "text"],
                    "msg": f"text is {len(message.text)} characters; the limit is {settings.max_text_chars}",
                    "type": "string_too_long",
                }
            ],
        )


async def _admit(
    gate: ChatGate, session: AsyncSession, message: MessageIn, principal: Principal, idempotency_key: str | None
) -> Admission | None:
    """The chat's rate limit and the tenant's quota; None for a retry of a message already accepted."""
    try:
        return await gate.admit(tenant_id=principal.tenant_id, channel=message.channel, chat_id=message.chat_id)
    except QuotaExceeded:
        # A retry of a message already accepted is answered with its task, not refused.
        if idempotency_key is None or not await find_task_by_key(
            session, tenant_id=principal.tenant_id, idempotency_key=idempotency_key
        ):
            raise
        return None


async def _store(
    session: AsyncSession,
    message: MessageIn,
    principal: Principal,
    *,
    admission: Admission | None,
    idempotency_key: str | None,
    request_id: str | None,
) -> tuple[Task, bool]:
    """The message and its task stored (or the task of the first message with this key), and whether it is new."""
    created = False
    try:
        task, created = await accept_message(
            session,
            tenant_id=principal.tenant_id,
            message=message,
            idempotency_key=idempotency_key,
            api_key_id=principal.key_id,
            callback_url=str(message.callback_url) if message.callback_url else principal.callback_url,
            request_id=request_id,
            # None only for a retry of a message already accepted (its task is returned).
            max_tasks_in_flight=admission.max_tasks_in_flight if admission is not None else None,
        )
    except IdempotencyConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    finally:
        if admission is not None and not created:
            # The quota counts new tasks only: give back a duplicate's (or a failed attempt's) count.
            await admission.release()
    return task, created


@router.post(
    "/messages", status_code=status.HTTP_202_ACCEPTED, response_model=MessageAccepted, responses=error_responses(409)
)
async def post_message(
    message: MessageIn,
    principal: MessagesWriter,
    session: SessionDep,
    jobs: JobsDep,
    settings: SettingsDep,
    gate: ChatGateDep,
    metrics: MetricsDep,
    request_id: RequestIdDep,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> MessageAccepted:
    """Accept a customer's message; the answer is made by a worker (poll the task)."""
    _refuse_long_text(message, settings)
    await refuse_unsafe_callback_url(message.callback_url, settings=settings)
    admission = await _admit(gate, session, message, principal, idempotency_key)
    task, created = await _store(
        session, message, principal, admission=admission, idempotency_key=idempotency_key, request_id=request_id
    )
    if created:
        metrics.messages_accepted.labels(channel=message.channel).inc()
    # `text` is masked in the logs unless LOG_CONTENT=true.
    log.info(
        "accepted a message for task %s",
        task.id,
        extra={
            "tenant_id": principal.tenant_id,
            "channel": message.channel,
            "duplicate": not created,
            "text": message.text,
        },
    )
    if task.status == TaskStatus.queued:
        # Also for a duplicate: if the first enqueue was lost, this puts the job back.
        await jobs.enqueue_answer(task.id)
    return MessageAccepted(task_id=task.id, conversation_id=task.conversation_id, status=TaskStatus(task.status))


@router.post("/messages/{answer_id}/feedback", response_model=FeedbackOut, responses=error_responses(404))
async def post_feedback(
    answer_id: str, feedback: FeedbackIn, principal: MessagesWriter, session: SessionDep
) -> FeedbackOut:
    """Rate an answer 👍/👎. `answer_id` is the assistant message id or the id of the task that
    produced it (what channel adapters and partners hold); a second rating replaces the first."""
    answer = await find_answer(session, tenant_id=principal.tenant_id, answer_id=answer_id)
    if answer is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no answer {answer_id!r} (unknown, or not answered yet)")
    return await store_feedback(session, answer=answer, feedback=feedback)
