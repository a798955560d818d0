"""Failed tasks for operators: list them with their error, requeue or discard one."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.models import Task, utcnow
from parley_contract.schemas import TaskStatus


def _failed(tenant_id: str) -> list[ColumnElement[bool]]:
    return [col(Task.tenant_id) == tenant_id, col(Task.status) == TaskStatus.failed, col(Task.discarded_at).is_(None)]


async def list_failed(session: AsyncSession, *, tenant_id: str, limit: int, offset: int) -> tuple[list[Task], int]:
    """The tenant's failed, not discarded tasks, newest first, and how many there are."""
    total = (await session.exec(select(func.count()).select_from(Task).where(*_failed(tenant_id)))).one()
    rows = await session.exec(
        select(Task)
        .where(*_failed(tenant_id))
        .order_by(col(Task.finished_at).desc(), col(Task.id))
        .limit(limit)
        .offset(offset)
    )
    return list(rows.all()), int(total)


async def mark_requeued(session: AsyncSession, *, task: Task) -> bool:
    """Move a failed task back to queued with its error cleared; False if it is not failed (any more)."""
    result = await session.exec(
        update(Task)
        .where(col(Task.id) == task.id, col(Task.status) == TaskStatus.failed)
        # A burst's task that failed with the task it was merged into is answered on its own now.
        .values(
            status=TaskStatus.queued,
            error=None,
            finished_at=None,
            started_at=None,
            discarded_at=None,
            reply_published_at=None,
            lease_expires_at=None,
            merged_into=None,
        )
    )
    await session.commit()
    await session.refresh(task)
    return bool(result.rowcount == 1)


async def discard(session: AsyncSession, *, task: Task) -> bool:
    """Hide a failed task from the list; False if it is not failed."""
    if task.status != TaskStatus.failed:
        return False
    task.discarded_at = task.discarded_at or utcnow()
    session.add(task)
    await session.commit()
    await session.refresh(task)
    return True
