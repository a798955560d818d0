"""The production vector-store path: a worker on a Chroma *server* (HttpClient via CHROMA_URL)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from parley_testkit.servers import ServiceProcess, free_port, wait_until
from parley_testkit.stack import SAMPLE_KB, Stack, running_stack
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert chroma, "the chroma CLI ships with the chromadb package"
    workdir = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    server = ServiceProcess.for_binary(
        [chroma, "run", "--path", str(workdir / "data"), "--host", "127.0.0.1", "--port", str(port)],
        log_path=workdir / "chroma.log",
        cwd=workdir,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{url}/api/v2/heartbeat").status_code == 200, timeout=60, what="chroma run")
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def server_stack(tmp_path_factory: pytest.TempPathFactory, chroma_server: str) -> Iterator[Stack]:
    with running_stack(
        name="chroma-server",
        workdir=tmp_path_factory.mktemp("chroma-server-stack"),
        redis_url=redis_url(dbs.CHROMA_SERVER),
        worker_env={"CHROMA_URL": chroma_server},
    ) as stack:
        yield stack


def test_worker_ingests_and_searches_through_a_chroma_server(server_stack: Stack, chroma_server: str) -> None:
    accepted = server_stack.upload(SAMPLE_KB / "delivery-and-returns.md")
    assert server_stack.wait_document(accepted["document_id"])["status"] == "ready"
    response = server_stack.client().post(
        "/api/v1/knowledge/search", json={"query": "deliver to Abu Dhabi", "top_k": 3}
    )
    assert response.status_code == 200, response.text
    assert "Abu Dhabi" in response.json()["hits"][0]["excerpt"]
    collections = httpx.get(
        f"{chroma_server}/api/v2/tenants/default_tenant/databases/default_database/collections"
    ).json()
    assert [c["name"] for c in collections] == ["parley-default"]
    assert not (server_stack.workdir / "chroma").exists()  # nothing embedded was created
