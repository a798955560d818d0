"""Stopping the gateway without breaking what is in flight.

On SIGTERM uvicorn stops accepting connections and waits for the requests in flight (up to
`SHUTDOWN_TIMEOUT_SECONDS`). A long poll (`GET /api/v1/tasks/{id}?wait=30`) would hold that wait
for its whole duration, so the server also sets `Draining`: long polls see it within a second and
answer at once with the task as it is, which the caller polls again (elsewhere, or after the restart).
"""

from __future__ import annotations

import signal
from types import FrameType

import uvicorn


class Draining:
    """Set once, when the process was asked to stop."""

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, *, draining: Draining) -> None:
        super().__init__(config)
        self._draining = draining

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._draining.set()
        super().handle_exit(sig, frame)


def exit_cleanly_on_sigterm() -> None:
    """After its graceful shutdown uvicorn re-raises the signal it caught with the handler it found;
    with this one a finished shutdown ends the process with status 0, not killed by SIGTERM."""

    def _exit(_sig: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _exit)
