from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status

from gateway.deps import EventsDep, StateDep, TasksReader
from gateway.schemas import AUTHENTICATED_ERRORS, error_responses
from gateway.services.tasks import get_task, task_out
from parley_contract.schemas import TaskOut, TaskStatus

router = APIRouter(prefix="/api/v1", tags=["tasks"], responses=AUTHENTICATED_ERRORS)

_FINISHED = (TaskStatus.done, TaskStatus.failed)


@router.get("/tasks/{task_id}", response_model=TaskOut, responses=error_responses(404))
async def read_task(
    task_id: str,
    request: Request,
    principal: TasksReader,
    state: StateDep,
    events: EventsDep,
    wait: Annotated[float, Query(ge=0, le=30, description="Seconds to wait for the task to finish")] = 0,
) -> TaskOut:
    """The task's status and, once done, its answer with sources and timings."""
    deadline = time.monotonic() + wait
    async with events.subscription(task_id) as finished:
        while True:
            # A short session per look: a long poll must not hold a pooled connection while it waits.
            async with state.sessions() as session:
                task = await get_task(session, tenant_id=principal.tenant_id, task_id=task_id)
            if task is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"no task {task_id!r}")
            remaining = deadline - time.monotonic()
            # A stopping gateway answers with the task as it is rather than hold its shutdown.
            if task.status in _FINISHED or remaining <= 0 or request.app.state.draining.is_set():
                return task_out(task)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), timeout=min(remaining, 1.0))
