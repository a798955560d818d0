"""Backoff with jitter and which failures are worth retrying, said once for every service.

In-process retries use tenacity (`wait_backoff` as their wait); retries scheduled for later (a
parked message, a callback's next attempt) take `backoff_delay`, the same curve.
"""

from __future__ import annotations

import random

from tenacity import RetryCallState
from tenacity.wait import wait_base

#: Statuses a retry of the same request may cure: a timeout, too early, rate-limited, a server fault.
TRANSIENT_STATUSES = frozenset({408, 425, 429}) | frozenset(range(500, 600))
#: The gateway refusing a channel adapter's own credentials is the deployment's fault (a token not
#: set or revoked), not the customer's: their message waits, retried, until an operator fixes it.
#: Both adapters treat these as transient; the message is never dropped for them.
CREDENTIAL_STATUSES = frozenset({401, 403})


class wait_backoff(wait_base):
    """A tenacity wait: `initial` doubling per attempt up to `cap`, then between half and all of it
    ("equal jitter"), so clients that fail together do not come back together, yet never wait ~0."""

    def __init__(self, *, initial: float, cap: float) -> None:
        self.initial = initial
        self.cap = cap

    def delay(self, attempt: int) -> float:
        full: float = min(self.cap, self.initial * 2 ** min(max(attempt, 1) - 1, 62))
        return full * random.uniform(0.5, 1.0)

    def __call__(self, retry_state: RetryCallState) -> float:
        return self.delay(retry_state.attempt_number)


def backoff_delay(*, attempt: int, initial: float, cap: float) -> float:
    """The wait after failed attempt number `attempt` (from 1), for a retry scheduled for later."""
    return wait_backoff(initial=initial, cap=cap).delay(attempt)


def transient_status(status: int, *, credentials_are_transient: bool = False) -> bool:
    return status in TRANSIENT_STATUSES or (credentials_are_transient and status in CREDENTIAL_STATUSES)
