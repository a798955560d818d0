"""Admin API: a tenant's tasks (filtered by status and needs_person) and failed tasks (requeue, discard)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from gateway.deps import AdminTenant, JobsDep, SessionDep
from gateway.models import Task, Tenant
from gateway.schemas import MAX_INT, TENANT_ERRORS, FailedTaskOut, FailedTaskPage, TaskPage, error_responses
from gateway.services import failed_tasks, task_list
from gateway.services.tasks import get_task, task_out
from parley_contract.schemas import TaskOut, TaskStatus

router = APIRouter(
    prefix="/api/v1/admin/tenants/{tenant_id}/tasks", tags=["admin: failed tasks"], responses=TENANT_ERRORS
)


async def _task(session: SessionDep, tenant: Tenant, task_id: str) -> Task:
    task = await get_task(session, tenant_id=tenant.id, task_id=task_id)
    if task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no task {task_id!r}")
    return task


@router.get("", response_model=TaskPage)
async def list_tasks(
    tenant: AdminTenant,
    session: SessionDep,
    needs_person: Annotated[
        bool | None, Query(description="Only tasks a person must (true) or need not (false) answer.")
    ] = None,
    task_status: Annotated[TaskStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> TaskPage:
    """The tenant's tasks, newest first; `needs_person=true` lists the questions Parley could not
    answer from the business's data (the honest fallback), for a person to reply to."""
    tasks, total = await task_list.list_tasks(
        session,
        tenant_id=tenant.id,
        needs_person=needs_person,
        task_status=task_status,
        limit=limit,
        offset=offset,
    )
    return TaskPage(items=[task_out(t) for t in tasks], total=total)


@router.get("/failed", response_model=FailedTaskPage)
async def list_failed_tasks(
    tenant: AdminTenant,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> FailedTaskPage:
    """Failed tasks that were not discarded, newest first, with the error."""
    tasks, total = await failed_tasks.list_failed(session, tenant_id=tenant.id, limit=limit, offset=offset)
    return FailedTaskPage(
        items=[FailedTaskOut.model_validate(task_out(t).model_dump() | {"attempts": t.attempts}) for t in tasks],
        total=total,
    )


@router.post(
    "/{task_id}/requeue", status_code=status.HTTP_202_ACCEPTED, response_model=TaskOut, responses=error_responses(409)
)
async def requeue_task(task_id: str, tenant: AdminTenant, session: SessionDep, jobs: JobsDep) -> TaskOut:
    """Answer a failed task again: it goes back to `queued` and is delivered like any other."""
    task = await _task(session, tenant, task_id)
    if not await failed_tasks.mark_requeued(session, task=task):
        raise HTTPException(status.HTTP_409_CONFLICT, f"task {task_id!r} is {task.status}, not failed")
    # Should Redis fail here, the task is queued in the database and the reconciler enqueues it.
    await jobs.requeue_answer(task.id, held_too_long=False)
    return task_out(task)


@router.post("/{task_id}/discard", response_model=TaskOut, responses=error_responses(409))
async def discard_task(task_id: str, tenant: AdminTenant, session: SessionDep) -> TaskOut:
    """Hide a failed task from the failed list (it stays failed)."""
    task = await _task(session, tenant, task_id)
    if not await failed_tasks.discard(session, task=task):
        raise HTTPException(status.HTTP_409_CONFLICT, f"task {task_id!r} is {task.status}, not failed")
    return task_out(task)
