"""The gateway's Prometheus metrics: HTTP requests by route template and status, plus Parley counters.

Each app gets its own registry, so several apps in one process (tests) never share counters.
`/metrics` is unauthenticated, as scrape endpoints are: keep it inside the private network.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter
from prometheus_fastapi_instrumentator import Instrumentator

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


def instrument(app: FastAPI, metrics: GatewayMetrics) -> None:
    """Count and time every request by method, route template and exact status; serve `/metrics`."""
    Instrumentator(
        should_group_status_codes=False,
        excluded_handlers=[METRICS_PATH],
        registry=metrics.registry,
    ).instrument(app).expose(app, endpoint=METRICS_PATH, include_in_schema=False)
