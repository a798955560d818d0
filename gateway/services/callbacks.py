"""Callback deliveries: the rows that say which finished task is owed to which partner URL.

A delivery is added in the same transaction that finishes its task, so a finished task with a
callback URL always has one. The dispatcher (`callback_dispatcher.py`) claims due deliveries,
POSTs them and records each attempt here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.models import CallbackDelivery, new_id, utcnow
from gateway.schemas import DeliveryStatus
from parley_contract.runtime.retry import backoff_delay
from parley_contract.schemas import TaskOut, TaskStatus

EVENT_TYPES = {TaskStatus.done: "task.completed", TaskStatus.failed: "task.failed"}
#: Longest error text kept on a delivery (the column's size).
MAX_ERROR_CHARS = 1000


def add_delivery(session: AsyncSession, *, tenant_id: str, url: str, task: TaskOut) -> CallbackDelivery:
    """Add (not commit) the delivery of this finished task to `url`; the caller's commit writes it."""
    delivery_id = new_id()
    now = utcnow()
    delivery = CallbackDelivery(
        id=delivery_id,
        tenant_id=tenant_id,
        task_id=task.task_id,
        url=url,
        payload={
            "id": delivery_id,
            "type": EVENT_TYPES[task.status],
            "created_at": now.isoformat(),
            "data": task.model_dump(mode="json"),
        },
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    return delivery


@dataclass(frozen=True)
class ClaimedDelivery:
    """One attempt a dispatcher owns until its lease ends."""

    id: str
    tenant_id: str
    url: str
    payload: dict[str, Any]
    #: This attempt's number (1 for the first).
    attempt: int


async def claim_due(session: AsyncSession, *, limit: int, lease_seconds: float) -> list[ClaimedDelivery]:
    """Claim up to `limit` pending deliveries whose next attempt is due.

    Each claim is a conditional UPDATE that moves `next_attempt_at` past the lease, so of two
    dispatchers (in one or several gateway processes) only one wins each attempt; if its process
    dies mid-attempt, the delivery is due again when the lease ends.
    """
    now = utcnow()
    due = await session.exec(
        select(CallbackDelivery.id)
        .where(col(CallbackDelivery.status) == DeliveryStatus.pending, col(CallbackDelivery.next_attempt_at) <= now)
        .order_by(col(CallbackDelivery.next_attempt_at))
        .limit(limit)
    )
    claimed_ids = []
    for delivery_id in due.all():
        result = await session.exec(
            update(CallbackDelivery)
            .where(
                col(CallbackDelivery.id) == delivery_id,
                col(CallbackDelivery.status) == DeliveryStatus.pending,
                col(CallbackDelivery.next_attempt_at) <= now,
            )
            .values(
                next_attempt_at=now + timedelta(seconds=lease_seconds),
                attempts=col(CallbackDelivery.attempts) + 1,
            )
        )
        await session.commit()
        if result.rowcount == 1:
            claimed_ids.append(delivery_id)
    claimed = []
    for delivery_id in claimed_ids:
        delivery = await session.get(CallbackDelivery, delivery_id, populate_existing=True)
        if delivery is not None:
            claimed.append(
                ClaimedDelivery(
                    id=delivery.id,
                    tenant_id=delivery.tenant_id,
                    url=delivery.url,
                    payload=delivery.payload,
                    attempt=delivery.attempts,
                )
            )
    return claimed


async def record_attempt(
    session: AsyncSession,
    *,
    claimed: ClaimedDelivery,
    status_code: int | None,
    error: str | None,
    max_attempts: int,
    backoff_base: float,
    backoff_cap: float,
) -> DeliveryStatus | None:
    """Store the outcome of an attempt (`error` None: delivered); returns the delivery's new status,
    or None when the attempt no longer owned the delivery (its lease ended and another took it)."""
    now = utcnow()
    values: dict[str, object] = {"last_status_code": status_code}
    if error is None:
        status = DeliveryStatus.delivered
        values.update(status=status, delivered_at=now, last_error=None)
    elif claimed.attempt >= max_attempts:
        status = DeliveryStatus.failed
        values.update(status=status, last_error=error[:MAX_ERROR_CHARS])
    else:
        status = DeliveryStatus.pending
        wait = backoff_delay(attempt=claimed.attempt, initial=backoff_base, cap=backoff_cap)
        values.update(last_error=error[:MAX_ERROR_CHARS], next_attempt_at=now + timedelta(seconds=wait))
    result = await session.exec(
        update(CallbackDelivery)
        .where(
            col(CallbackDelivery.id) == claimed.id,
            col(CallbackDelivery.status) == DeliveryStatus.pending,
            col(CallbackDelivery.attempts) == claimed.attempt,
        )
        .values(**values)
    )
    await session.commit()
    return status if result.rowcount == 1 else None


async def list_deliveries(
    session: AsyncSession,
    *,
    tenant_id: str,
    status: DeliveryStatus | None = None,
    task_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[CallbackDelivery]:
    """The tenant's deliveries, newest first."""
    query = select(CallbackDelivery).where(CallbackDelivery.tenant_id == tenant_id)
    if status is not None:
        query = query.where(CallbackDelivery.status == status)
    if task_id is not None:
        query = query.where(CallbackDelivery.task_id == task_id)
    query = (
        query.order_by(col(CallbackDelivery.created_at).desc(), col(CallbackDelivery.id)).offset(offset).limit(limit)
    )
    return list((await session.exec(query)).all())


async def get_delivery(session: AsyncSession, *, tenant_id: str, delivery_id: str) -> CallbackDelivery | None:
    delivery = await session.get(CallbackDelivery, delivery_id)
    if delivery is None or delivery.tenant_id != tenant_id:
        return None
    return delivery


async def redeliver(session: AsyncSession, *, delivery: CallbackDelivery) -> CallbackDelivery | None:
    """Put a failed or delivered delivery back to pending, due now, attempts reset; None if it
    is pending already (the dispatcher still owns it)."""
    result = await session.exec(
        update(CallbackDelivery)
        .where(col(CallbackDelivery.id) == delivery.id, col(CallbackDelivery.status) != DeliveryStatus.pending)
        .values(status=DeliveryStatus.pending, attempts=0, next_attempt_at=utcnow(), delivered_at=None)
    )
    await session.commit()
    if result.rowcount != 1:
        return None
    await session.refresh(delivery)
    return delivery
