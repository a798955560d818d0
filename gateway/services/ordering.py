"""Per-conversation order and bursts, decided when a worker claims a task.

Order: a task is answered only once no earlier task of its conversation is still open (queued,
or running, and not merged), so with several workers the answers follow the messages and each
answer's history holds the previous answer.

Bursts: messages of one conversation that follow each other within the burst window form one
turn. The LATEST message of the burst is answered, with the texts of all of them; the earlier
tasks are merged into it (`task.merged_into`) and finish with its answer, without a reply of
their own. So a task waits until its burst is closed: until the window has passed since it
arrived with no newer message. A customer who sends one message waits the window once.

This module only decides (`plan_claim` is pure); `services.tasks.claim_task` applies the
decision with conditional updates, and `services.wakeups` runs a deferred task again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from parley_contract.schemas import TaskStatus


class DeferReason(StrEnum):
    #: An earlier task of the conversation is still open; the task runs once that one finishes.
    earlier_pending = "earlier_pending"
    #: The task is the newest of the conversation and younger than the burst window: more may come.
    burst_open = "burst_open"
    #: A newer message came within the window: the task will be answered with it, as one turn.
    superseded = "superseded"
    #: The conversation changed while the claim was decided; look again shortly.
    changed = "changed"


@dataclass(frozen=True)
class OpenTask:
    """A task of the conversation that is queued or running and not merged."""

    id: str
    created_at: datetime
    status: TaskStatus


@dataclass(frozen=True)
class Claimable:
    #: Earlier tasks of the burst, oldest first, to be answered together with the claimed one.
    merge_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Deferred:
    reason: DeferReason
    #: Run the task again after this many seconds; None: its wake-up comes when an earlier task
    #: finishes (or when the newer task of its burst is claimed and merges it).
    retry_after: float | None = None


def plan_claim(
    *, task: OpenTask, open_tasks: Sequence[OpenTask], window_seconds: float, now: datetime
) -> Claimable | Deferred:
    """Decide the claim of the queued `task` from its conversation's open tasks (which hold it)."""
    ordered = sorted(open_tasks, key=lambda t: (t.created_at, t.id))
    position = next(i for i, t in enumerate(ordered) if t.id == task.id)
    earlier, later = ordered[:position], ordered[position + 1 :]
    merge: list[OpenTask] = []
    if window_seconds > 0:
        if later:
            following = later[0]
            # A running follower was claimed already (a race of two commits); then answer this one on its own.
            gap = (following.created_at - task.created_at).total_seconds()
            if following.status == TaskStatus.queued and gap <= window_seconds:
                return Deferred(DeferReason.superseded)
        else:
            age = (now - task.created_at).total_seconds()
            if age < window_seconds:
                return Deferred(DeferReason.burst_open, retry_after=window_seconds - age)
        newer = task
        for previous in reversed(earlier):
            gap = (newer.created_at - previous.created_at).total_seconds()
            if previous.status != TaskStatus.queued or gap > window_seconds:
                break
            merge.append(previous)
            newer = previous
        merge.reverse()
    if len(earlier) > len(merge):
        return Deferred(DeferReason.earlier_pending)
    return Claimable(merge_ids=[t.id for t in merge])
