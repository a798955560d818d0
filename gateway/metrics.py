"""The gateway's Prometheus metrics: HTTP requests by route template and status, plus Parley counters.

Each app gets its own registry, so several apps in one process (tests) never share counters.
`/metrics` needs `Authorization: Bearer <METRICS_TOKEN>` when that is set; without it the endpoint
is open outside production and off in production (METRICS_PUBLIC=true opens it there, for a
gateway port that only the private network reaches).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Depends, FastAPI, HTTPException, Request, status
from prometheus_client import CollectorRegistry, Counter
from prometheus_fastapi_instrumentator import Instrumentator

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"


@dataclass
class GatewayMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.messages_accepted = Counter(
            "parley_messages_accepted_total",
            "Customer messages stored and queued for an answer (duplicates not counted).",
            ["channel"],
            registry=self.registry,
        )
        self.tasks_finished = Counter(
            "parley_tasks_finished_total",
            "Tasks a worker finished, by final status.",
            ["status"],
            registry=self.registry,
        )


def instrument(app: FastAPI, metrics: GatewayMetrics, *, token: str = "", public: bool = True) -> None:
    """Count and time every request by method, route template and exact status; serve `/metrics`
    behind `token` if there is one, else openly if `public`, else not at all."""
    instrumentator = Instrumentator(
        should_group_status_codes=False,
        excluded_handlers=[METRICS_PATH],
        registry=metrics.registry,
    ).instrument(app)
    if token:
        dependencies = [Depends(require_bearer(token))]
        instrumentator.expose(app, endpoint=METRICS_PATH, include_in_schema=False, dependencies=dependencies)
    elif public:
        instrumentator.expose(app, endpoint=METRICS_PATH, include_in_schema=False)
    else:
        log.info("GET /metrics is off: set METRICS_TOKEN for Prometheus (or METRICS_PUBLIC=true on a private port)")


def require_bearer(token: str) -> Callable[[Request], None]:
    """A dependency that lets the request through only with `Authorization: Bearer <token>`."""
    expected = token.encode()

    def check(request: Request) -> None:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), expected):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "GET /metrics needs 'Authorization: Bearer <METRICS_TOKEN>'",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check
