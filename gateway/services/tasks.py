"""The task lifecycle: queued → running (claimed by a worker) → done | failed.

The task row is the source of truth. A claim is refused for a finished task and for one a
live worker holds, so a redelivered job never produces a second answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.models import Contact, Conversation, Message, PromptVersion, Task, Tenant, utcnow
from gateway.services.callbacks import add_delivery
from parley_contract.schemas import (
    HistoryTurn,
    ReplyEvent,
    Role,
    Source,
    TaskClaim,
    TaskCompletion,
    TaskFailure,
    TaskOut,
    TaskStatus,
    TenantSettings,
    Timings,
)


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=utcnow().tzinfo)


def task_out(task: Task) -> TaskOut:
    return TaskOut(
        task_id=task.id,
        conversation_id=task.conversation_id,
        status=TaskStatus(task.status),
        answer=task.answer,
        sources=[Source.model_validate(s) for s in task.sources],
        error=task.error,
        timings=Timings.model_validate(task.timings),
        prompt_version=task.prompt_version,
        created_at=_aware(task.created_at),
        finished_at=_aware(task.finished_at) if task.finished_at else None,
    )


async def get_task(session: AsyncSession, *, tenant_id: str, task_id: str) -> Task | None:
    task = await session.get(Task, task_id)
    if task is None or task.tenant_id != tenant_id:
        return None
    return task


def lease_expired(now: datetime) -> ColumnElement[bool]:
    """A running task's claim has run out: its worker died, froze or lost the gateway, and stopped renewing."""
    # Rows claimed before leases were stored have only started_at; they count as expired.
    return (col(Task.lease_expires_at) < now) | col(Task.lease_expires_at).is_(None)


async def claim_task(session: AsyncSession, *, task_id: str, lease_seconds: int) -> TaskClaim | None:
    """Mark the task running and return what the worker needs, or None if it is not claimable."""
    now = utcnow()
    claimed = await session.exec(
        update(Task)
        .where(
            col(Task.id) == task_id,
            (col(Task.status) == TaskStatus.queued) | ((col(Task.status) == TaskStatus.running) & lease_expired(now)),
        )
        .values(
            status=TaskStatus.running,
            started_at=now,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=col(Task.attempts) + 1,
        )
    )
    if claimed.rowcount != 1:
        await session.rollback()
        return None
    await session.commit()
    task = await session.get(Task, task_id)
    assert task is not None
    inbound = await session.get(Message, task.message_id)
    conversation = await session.get(Conversation, task.conversation_id)
    tenant = await session.get(Tenant, task.tenant_id)
    assert inbound is not None and conversation is not None and tenant is not None
    settings = TenantSettings.model_validate(tenant.settings)
    history_rows = await session.exec(
        select(Message)
        .where(Message.conversation_id == task.conversation_id, col(Message.created_at) < inbound.created_at)
        .order_by(col(Message.created_at).desc())
        .limit(settings.history_turns * 2)
    )
    history = [HistoryTurn(role=Role(m.role), text=m.text) for m in reversed(history_rows.all())]
    contact = await session.get(Contact, conversation.contact_id)
    # The worker always answers with the tenant's active version; the task records which one.
    prompt = await session.get(PromptVersion, tenant.active_prompt_id) if tenant.active_prompt_id else None
    task.prompt_version = prompt.version if prompt else None
    session.add(task)
    await session.commit()
    return TaskClaim(
        task_id=task.id,
        request_id=task.request_id,
        tenant_id=task.tenant_id,
        conversation_id=task.conversation_id,
        text=inbound.text,
        language=contact.language if contact else None,
        history=history,
        settings=settings,
        attempt=task.attempts,
        queue_wait_ms=(now - _aware(task.created_at)).total_seconds() * 1000,
        prompt=prompt.text if prompt else None,
        prompt_version=prompt.version if prompt else None,
        lease_seconds=lease_seconds,
    )


async def renew_lease(session: AsyncSession, *, task_id: str, attempt: int, lease_seconds: int) -> bool:
    """Extend the claim of the worker that holds `attempt`; False if the task is no longer its."""
    result = await session.exec(
        update(Task)
        .where(col(Task.id) == task_id, col(Task.status) == TaskStatus.running, col(Task.attempts) == attempt)
        .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
    )
    await session.commit()
    return bool(result.rowcount == 1)


async def _finish(
    session: AsyncSession, *, task_id: str, attempt: int | None, values: dict[str, object]
) -> tuple[Task, Conversation] | None:
    """Move a running task to its final state once; None if it was already finished.

    With `attempt`, only the worker of that claim may: one whose lease ran out and whose task was
    claimed again stores nothing.
    """
    condition: ColumnElement[bool] = col(Task.status).in_([TaskStatus.running, TaskStatus.queued])
    if attempt is not None:
        condition = condition & (col(Task.attempts) == attempt)
    result = await session.exec(
        update(Task).where(col(Task.id) == task_id, condition).values(finished_at=utcnow(), **values)
    )
    if result.rowcount != 1:
        await session.rollback()
        return None
    task = await session.get(Task, task_id)
    assert task is not None
    conversation = await session.get(Conversation, task.conversation_id)
    assert conversation is not None
    return task, conversation


async def complete_task(session: AsyncSession, *, task_id: str, completion: TaskCompletion) -> ReplyEvent | None:
    finished = await _finish(
        session,
        task_id=task_id,
        attempt=completion.attempt,
        values={
            "status": TaskStatus.done,
            "answer": completion.answer,
            "sources": [s.model_dump() for s in completion.sources],
            "timings": completion.timings.model_dump(),
            "error": None,
        },
    )
    if finished is None:
        return None
    task, conversation = finished
    session.add(
        Message(
            tenant_id=task.tenant_id,
            conversation_id=task.conversation_id,
            role=Role.assistant,
            text=completion.answer,
            task_id=task.id,
        )
    )
    _owe_callback(session, task)
    await session.commit()
    await session.refresh(task)
    return _reply_event(task, conversation)


async def fail_task(session: AsyncSession, *, task_id: str, failure: TaskFailure) -> ReplyEvent | None:
    finished = await _finish(
        session,
        task_id=task_id,
        attempt=failure.attempt,
        values={"status": TaskStatus.failed, "error": failure.error, "timings": failure.timings.model_dump()},
    )
    if finished is None:
        return None
    task, conversation = finished
    _owe_callback(session, task)
    await session.commit()
    await session.refresh(task)
    return _reply_event(task, conversation)


async def mark_reply_published(session: AsyncSession, *, task_id: str) -> None:
    await session.exec(update(Task).where(col(Task.id) == task_id).values(reply_published_at=utcnow()))
    await session.commit()


async def unpublished_replies(session: AsyncSession, *, finished_before: datetime, limit: int) -> list[ReplyEvent]:
    """Finished tasks whose reply event never reached the channel stream (Redis failed in between)."""
    rows = await session.exec(
        select(Task, Conversation)
        .join(Conversation, col(Conversation.id) == col(Task.conversation_id))
        .where(
            col(Task.status).in_([TaskStatus.done, TaskStatus.failed]),
            col(Task.reply_published_at).is_(None),
            col(Task.finished_at) < finished_before,
        )
        .order_by(col(Task.finished_at))
        .limit(limit)
    )
    return [_reply_event(task, conversation) for task, conversation in rows.all()]


def _owe_callback(session: AsyncSession, task: Task) -> None:
    # In the transaction that finishes the task: a finished task never lacks its delivery.
    if task.callback_url:
        add_delivery(session, tenant_id=task.tenant_id, url=task.callback_url, task=task_out(task))


def _reply_event(task: Task, conversation: Conversation) -> ReplyEvent:
    return ReplyEvent(
        task_id=task.id,
        request_id=task.request_id,
        tenant_id=task.tenant_id,
        conversation_id=task.conversation_id,
        channel=conversation.channel,
        chat_id=conversation.chat_id,
        status=TaskStatus(task.status),
        answer=task.answer,
        error=task.error,
    )
