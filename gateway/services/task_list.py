"""A tenant's tasks for operators, filtered by status and by whether a person must reply."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.models import Task
from parley_contract.schemas import TaskStatus


async def list_tasks(
    session: AsyncSession,
    *,
    tenant_id: str,
    needs_person: bool | None,
    task_status: TaskStatus | None,
    limit: int,
    offset: int,
) -> tuple[list[Task], int]:
    """The tenant's tasks matching the filters (None: any), newest first, and how many match."""
    where: list[ColumnElement[bool]] = [col(Task.tenant_id) == tenant_id]
    if needs_person is not None:
        where.append(col(Task.needs_person) == needs_person)
    if task_status is not None:
        where.append(col(Task.status) == task_status)
    total = (await session.exec(select(func.count()).select_from(Task).where(*where))).one()
    rows = await session.exec(
        select(Task).where(*where).order_by(col(Task.created_at).desc(), col(Task.id)).limit(limit).offset(offset)
    )
    return list(rows.all()), int(total)
