"""The task lifecycle: queued → running (claimed by a worker) → done | failed.

The task row is the source of truth. A claim is refused for a finished task and for one a
live worker holds, so a redelivered job never produces a second answer. It is deferred while an
earlier task of the conversation is open or while the task's burst may still grow (see
`services.ordering`); the tasks of a burst are merged into the one that answers them all.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, exists, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.models import Contact, Conversation, Message, PromptVersion, Task, Tenant, as_utc, utcnow
from gateway.services.callbacks import add_delivery
from gateway.services.ordering import DeferReason, Deferred, OpenTask, plan_claim
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
        created_at=as_utc(task.created_at),
        finished_at=as_utc(task.finished_at) if task.finished_at else None,
        merged_into=task.merged_into,
        needs_person=task.needs_person,
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


_OPEN = (TaskStatus.queued, TaskStatus.running)


async def _open_tasks(session: AsyncSession, *, conversation_id: str) -> list[OpenTask]:
    rows = await session.exec(
        select(Task.id, Task.created_at, Task.status).where(
            col(Task.conversation_id) == conversation_id,
            col(Task.status).in_(_OPEN),
            col(Task.merged_into).is_(None),
        )
    )
    return [OpenTask(id=i, created_at=as_utc(c), status=TaskStatus(s)) for i, c, s in rows.all()]


def _no_earlier_open_task() -> ColumnElement[bool]:
    # Checked inside the claiming UPDATE itself, so two workers deciding at once cannot both pass:
    # the database evaluates it against the rows as they are when the update runs.
    earlier = aliased(Task)
    return ~exists().where(
        col(earlier.conversation_id) == col(Task.conversation_id),
        col(earlier.status).in_(_OPEN),
        col(earlier.merged_into).is_(None),
        (col(earlier.created_at) < col(Task.created_at))
        | ((col(earlier.created_at) == col(Task.created_at)) & (col(earlier.id) < col(Task.id))),
    )


async def claim_task(
    session: AsyncSession,
    *,
    task_id: str,
    lease_seconds: int,
    burst_window_seconds: float = 0.0,
    burst_excluded_channels: frozenset[str] = frozenset(),
) -> TaskClaim | Deferred | None:
    """Mark the task running and return what the worker needs; Deferred when it must wait (for
    an earlier task of its conversation, or for its burst to close); None if it is finished,
    merged into another task, or held by a live worker."""
    now = utcnow()
    task = await session.get(Task, task_id, populate_existing=True)
    if task is None:
        return None
    waiting = task.status == TaskStatus.queued and task.merged_into is None
    if waiting:
        deferred = await _plan_and_merge(
            session, task=task, now=now, window_seconds=burst_window_seconds, excluded=burst_excluded_channels
        )
        if deferred is not None:
            await session.rollback()
            return deferred
    if not await _mark_running(session, task_id=task_id, now=now, lease_seconds=lease_seconds):
        await session.rollback()
        # Claimable a moment ago: an earlier task appeared or another claim won; look again.
        return Deferred(DeferReason.changed, retry_after=0.5) if waiting else None
    await session.commit()
    await session.refresh(task)
    return await _worker_claim(session, task=task, now=now, lease_seconds=lease_seconds)


async def _plan_and_merge(
    session: AsyncSession, *, task: Task, now: datetime, window_seconds: float, excluded: frozenset[str]
) -> Deferred | None:
    """Whether the queued task may be claimed now (None) and, if so, merge its burst into it."""
    conversation = await session.get(Conversation, task.conversation_id)
    assert conversation is not None
    # Partners (channel api: /v1/chat/completions) expect one answer per request: never merged.
    window = 0.0 if conversation.channel in excluded else window_seconds
    plan = plan_claim(
        task=OpenTask(id=task.id, created_at=as_utc(task.created_at), status=TaskStatus.queued),
        open_tasks=await _open_tasks(session, conversation_id=task.conversation_id),
        window_seconds=window,
        now=now,
    )
    if isinstance(plan, Deferred):
        return plan
    if not await _merge(session, into=task.id, task_ids=plan.merge_ids):
        return Deferred(DeferReason.changed, retry_after=0.5)
    return None


async def _mark_running(session: AsyncSession, *, task_id: str, now: datetime, lease_seconds: int) -> bool:
    """The claim itself: one conditional update, so two workers can never both hold the task."""
    claimed = await session.exec(
        update(Task)
        .where(
            col(Task.id) == task_id,
            ((col(Task.status) == TaskStatus.queued) & col(Task.merged_into).is_(None) & _no_earlier_open_task())
            | ((col(Task.status) == TaskStatus.running) & lease_expired(now)),
        )
        .values(
            status=TaskStatus.running,
            started_at=now,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=col(Task.attempts) + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(claimed.rowcount == 1)


async def _worker_claim(session: AsyncSession, *, task: Task, now: datetime, lease_seconds: int) -> TaskClaim:
    """What the worker needs to answer the claimed task: its turn, the history, settings and prompt."""
    inbound = await session.get(Message, task.message_id)
    conversation = await session.get(Conversation, task.conversation_id)
    tenant = await session.get(Tenant, task.tenant_id)
    assert inbound is not None and conversation is not None and tenant is not None
    settings = TenantSettings.model_validate(tenant.settings)
    burst = await _turn_messages(session, task=task, inbound=inbound)
    history = await _history(session, task=task, turn_started=burst[0].created_at, turns=settings.history_turns)
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
        # One turn: the customer's messages of the burst, in the order sent.
        text="\n".join(m.text for m in burst),
        language=contact.language if contact else None,
        history=history,
        settings=settings,
        attempt=task.attempts,
        queue_wait_ms=(now - as_utc(task.created_at)).total_seconds() * 1000,
        prompt=prompt.text if prompt else None,
        prompt_version=prompt.version if prompt else None,
        lease_seconds=lease_seconds,
    )


async def _turn_messages(session: AsyncSession, *, task: Task, inbound: Message) -> list[Message]:
    """The burst's earlier messages (merged into this task), oldest first, then its own."""
    burst_rows = await session.exec(
        select(Message)
        .join(Task, col(Task.message_id) == col(Message.id))
        .where(col(Task.merged_into) == task.id)
        .order_by(col(Message.created_at), col(Message.id))
    )
    return [*burst_rows.all(), inbound]


async def _history(session: AsyncSession, *, task: Task, turn_started: datetime, turns: int) -> list[HistoryTurn]:
    """Earlier turns: what was said before this turn, and the answers to the earlier tasks, even
    those stored after this turn's messages arrived (the task waited for them: see ordering)."""
    earlier_tasks = select(Task.id).where(
        col(Task.conversation_id) == task.conversation_id, col(Task.created_at) < turn_started
    )
    history_rows = await session.exec(
        select(Message)
        .where(
            Message.conversation_id == task.conversation_id,
            (col(Message.created_at) < turn_started)
            | ((col(Message.role) == Role.assistant) & col(Message.task_id).in_(earlier_tasks)),
        )
        .order_by(col(Message.created_at).desc())
        .limit(turns * 2)
    )
    return [HistoryTurn(role=Role(m.role), text=m.text) for m in reversed(history_rows.all())]


async def _merge(session: AsyncSession, *, into: str, task_ids: list[str]) -> bool:
    """Point the burst's earlier tasks at the task that answers them; False if one of them moved meanwhile."""
    if not task_ids:
        return True
    result = await session.exec(
        update(Task)
        .where(
            col(Task.id).in_(task_ids),
            col(Task.status) == TaskStatus.queued,
            col(Task.merged_into).is_(None),
        )
        .values(merged_into=into)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == len(task_ids))


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
            "needs_person": completion.needs_person,
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
    merged = await _finish_merged(
        session,
        into=task,
        values={
            "status": TaskStatus.done,
            "answer": completion.answer,
            "sources": [s.model_dump() for s in completion.sources],
            "needs_person": completion.needs_person,
            "error": None,
        },
    )
    await session.commit()
    await session.refresh(task)
    return _reply_event(task, conversation, merged_task_ids=merged)


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
    merged = await _finish_merged(session, into=task, values={"status": TaskStatus.failed, "error": failure.error})
    await session.commit()
    await session.refresh(task)
    return _reply_event(task, conversation, merged_task_ids=merged)


async def _finish_merged(session: AsyncSession, *, into: Task, values: dict[str, object]) -> list[str]:
    """Finish the burst's earlier tasks with the answer (or failure) of the task that covered them.

    In the transaction that finishes `into`. They get no assistant message and no reply event of
    their own: the customer gets one reply for the burst (`into`'s event lists them), so their
    reply counts as published. Partners' callbacks are owed for each (one per request).
    """
    now = utcnow()
    result = await session.exec(
        update(Task)
        .where(col(Task.merged_into) == into.id, col(Task.status).in_(_OPEN))
        .values(finished_at=now, reply_published_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:
        return []
    rows = await session.exec(
        select(Task)
        .where(col(Task.merged_into) == into.id)
        .order_by(col(Task.created_at))
        .execution_options(populate_existing=True)
    )
    merged = list(rows.all())
    for task in merged:
        _owe_callback(session, task)
    return [task.id for task in merged]


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


def _reply_event(task: Task, conversation: Conversation, *, merged_task_ids: list[str] | None = None) -> ReplyEvent:
    return ReplyEvent(
        merged_task_ids=merged_task_ids or [],
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
