"""Background loops: a round run every interval until stopped, in an asyncio task or a thread.

A round that raises is logged with its traceback and the loop goes on: a background loop never
dies of one bad round. `stop()` ends the loop (an asyncio round is cancelled, a thread's round is
let finish); `wake()` runs the next round now.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class AsyncLoop:
    """`round()` every `interval_seconds` in an asyncio task; after a failed round, `error_pause_seconds` more."""

    def __init__(
        self,
        round: Callable[[], Awaitable[object]],
        *,
        name: str,
        interval_seconds: float,
        error_pause_seconds: float = 0.0,
    ) -> None:
        self._round = round
        self.name = name
        self._interval = interval_seconds
        self._error_pause = error_pause_seconds
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    def wake(self) -> None:
        self._wakeup.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=self._interval)
            self._wakeup.clear()
            try:
                await self._round()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("%s: round failed; next round in %.1f s", self.name, self._interval, exc_info=True)
                await asyncio.sleep(self._error_pause)


class ThreadLoop:
    """`round()` every `interval_seconds` in a daemon thread (for code that runs outside an event loop,
    e.g. beside a blocking RQ job). A round that returns False ends the loop."""

    def __init__(
        self,
        round: Callable[[], bool | None],
        *,
        name: str,
        interval_seconds: float,
    ) -> None:
        self._round = round
        self.name = name
        self._interval = interval_seconds
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, *, join_seconds: float | None = None) -> None:
        """End the loop after the round in progress; wait for it up to `join_seconds` (None: do not wait)."""
        self._stopped.set()
        if join_seconds is not None and self._thread.is_alive():
            self._thread.join(timeout=join_seconds)

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                if self._round() is False:
                    return
            except Exception:
                log.warning("%s: round failed; next round in %.1f s", self.name, self._interval, exc_info=True)
