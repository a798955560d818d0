"""Keeping a claimed task while it is being answered.

The gateway's claim holds a task for `lease_seconds`; a worker killed with SIGKILL stops renewing,
so its task is claimed again soon after, while a live worker in a long generation keeps it.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import Protocol

from parley_contract.runtime.loops import ThreadLoop

log = logging.getLogger(__name__)


class LeaseRenewer(Protocol):
    def renew_lease(self, task_id: str, *, attempt: int, timeout: float) -> bool | None: ...


class LeaseKeeper:
    """Renews the claim every third of the lease in a daemon thread, for the life of a `with` block.

    `lost` turns true when the gateway says the task is no longer ours (finished, or claimed again
    after our lease ran out, e.g. while the gateway was unreachable): the job stops and stores nothing.
    """

    def __init__(self, gateway: LeaseRenewer, *, task_id: str, attempt: int, lease_seconds: float) -> None:
        self._gateway = gateway
        self._task_id = task_id
        self._attempt = attempt
        self._interval = max(lease_seconds / 3, 0.5)
        self._lost = threading.Event()
        self._loop = ThreadLoop(self._renew, name=f"lease-{task_id}", interval_seconds=self._interval)

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def __enter__(self) -> LeaseKeeper:
        self._loop.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._loop.stop(join_seconds=self._interval + 1)

    def _renew(self) -> bool:
        """One renewal; False (the loop ends) once the task is no longer ours."""
        renewed = self._gateway.renew_lease(self._task_id, attempt=self._attempt, timeout=self._interval)
        if renewed is False:
            log.warning("task %s was finished or claimed again elsewhere; this attempt stops", self._task_id)
            self._lost.set()
            return False
        if renewed is None:
            log.warning("could not renew the lease of task %s (gateway unreachable); trying again", self._task_id)
        return True
