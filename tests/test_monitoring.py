"""The monitoring files next to docker-compose.yml: they parse, are wired to each other, and the
dashboard asks only for metrics the gateway and the worker really expose."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import redis
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from ai_worker import metrics as worker_metrics
from gateway.metrics import GatewayMetrics, instrument
from parley_testkit.servers import ROOT
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url

MONITORING = ROOT / "monitoring"
SUFFIXES = re.compile(r"_(bucket|count|sum|total|created)$")


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def compose() -> dict[str, Any]:
    found: dict[str, Any] = load_yaml(ROOT / "docker-compose.yml")
    return found


def test_prometheus_scrapes_the_gateway_and_every_worker_on_its_metrics_port() -> None:
    config = load_yaml(MONITORING / "prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["parley-gateway"]["static_configs"][0]["targets"] == ["gateway:8000"]
    worker_sd = jobs["parley-worker"]["dns_sd_configs"][0]
    services = compose()["services"]
    assert worker_sd["names"] == ["ai_worker"] and "ai_worker" in services
    assert str(worker_sd["port"]) == services["ai_worker"]["environment"]["METRICS_PORT"]
    assert str(worker_sd["port"]) in services["ai_worker"]["expose"]


def test_prometheus_and_grafana_run_behind_the_monitoring_profile_with_files_that_exist() -> None:
    services = compose()["services"]
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["monitoring"]
        for volume in services[name]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source
    assert "prometheus-data" in compose()["volumes"] and "grafana-data" in compose()["volumes"]


def test_grafana_provisioning_points_at_the_dashboard_and_the_datasource_it_uses() -> None:
    datasources = load_yaml(MONITORING / "grafana/provisioning/datasources/prometheus.yml")["datasources"]
    providers = load_yaml(MONITORING / "grafana/provisioning/dashboards/parley.yml")["providers"]
    assert providers[0]["options"]["path"] == "/var/lib/grafana/dashboards"
    dashboard = json.loads((MONITORING / "grafana/dashboards/parley.json").read_text())
    uids = {panel["datasource"]["uid"] for panel in dashboard["panels"]}
    assert uids == {datasources[0]["uid"]}
    assert datasources[0]["url"] == "http://prometheus:9090"


def exposed_metric_names() -> set[str]:
    """Every metric family the gateway and the worker register (queue depth read from a real Redis)."""
    gateway = GatewayMetrics()
    app = FastAPI()
    instrument(app, gateway)  # as create_app does
    with TestClient(app) as client:  # the instrumentation registers its metrics when the app starts
        assert client.get("/metrics").status_code == 200
    families = list(gateway.registry.collect()) + list(REGISTRY.collect())
    connection = redis.Redis.from_url(redis_url(dbs.MONITORING))
    try:
        families += list(worker_metrics.QueueDepthCollector(connection).collect())
    finally:
        connection.close()
    return {SUFFIXES.sub("", family.name) for family in families}


def test_the_dashboard_asks_only_for_exposed_metrics() -> None:
    dashboard = json.loads((MONITORING / "grafana/dashboards/parley.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = {SUFFIXES.sub("", name) for expr in exprs for name in re.findall(r"\b(?:http|parley)_[a-z_]+", expr)}
    exposed = exposed_metric_names()
    assert used <= exposed, used - exposed
    # Each part of the issue has a panel: HTTP, jobs, queue depth, latency, tokens, LLM errors.
    for name in (
        "http_requests",
        "http_request_duration_seconds",
        "parley_worker_jobs",
        "parley_queue_jobs",
        "parley_worker_retrieval_seconds",
        "parley_worker_generation_seconds",
        "parley_worker_llm_tokens",
        "parley_worker_llm_errors",
    ):
        assert name in used, name
