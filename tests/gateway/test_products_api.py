"""The catalog rows over HTTP: the worker writes and reads them (worker token only), a tenant's
partner key reads its own; rows removed from a file or with their document go; SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from redis import Redis

from ai_worker.gateway_client import GatewayClient, product_batches
from ai_worker.runtime import Runtime
from ai_worker.settings import WorkerSettings
from parley_contract.names import KNOWLEDGE_VERSION_PREFIX
from parley_contract.products import ProductRow
from parley_testkit.stack import SAMPLE_KB, TOKENS, Stack
from tests.support import redis_dbs as dbs
from tests.support.gateways import gateway_only, run_cli_ingest


@pytest.fixture(scope="module")
def sqlite_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = Path(tmp_path_factory.mktemp("products-sqlite"))
    with gateway_only(
        name="products-sqlite", workdir=workdir, database="sqlite", redis_db=dbs.PRODUCTS_SQLITE
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def postgres_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = Path(tmp_path_factory.mktemp("products-postgres"))
    with gateway_only(
        name="products-postgres", workdir=workdir, database="postgres", redis_db=dbs.PRODUCTS_POSTGRES
    ) as stack:
        yield stack


@pytest.fixture(params=["sqlite", "postgres"])
def stack(request: pytest.FixtureRequest) -> Stack:
    found: Stack = request.getfixturevalue(f"{request.param}_stack")
    return found


def _row(sku: str, name: str, price: str = "100") -> dict[str, Any]:
    return {
        "sku": sku,
        "name": name,
        "price": price,
        "currency": "AED",
        "stock": 2,
        "in_stock": True,
        "category": "Sofas",
        "attributes": {"colors": "Sand"},
    }


def _document(stack: Stack, tenant_id: str, name: str = "catalog.csv") -> str:
    response = stack.client("worker").post(
        "/internal/v1/documents", data={"tenant_id": tenant_id}, files={"file": (name, b"sku,name,price\nA-1,x,1\n")}
    )
    assert response.status_code == 200, response.text
    document_id: str = response.json()["document_id"]
    return document_id


def _send(client: httpx.Client, document_id: str, rows: list[dict[str, Any]]) -> str:
    generation = uuid.uuid4().hex
    response = client.post(
        f"/internal/v1/documents/{document_id}/products", json={"generation": generation, "products": rows}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"stored": len(rows)}
    return generation


def _settle(client: httpx.Client, document_id: str, generation: str) -> int:
    response = client.post(f"/internal/v1/documents/{document_id}/products/settle", json={"generation": generation})
    assert response.status_code == 200, response.text
    removed: int = response.json()["removed"]
    return removed


def _skus(client: httpx.Client, tenant_id: str) -> list[str]:
    response = client.get(f"/internal/v1/tenants/{tenant_id}/products")
    assert response.status_code == 200, response.text
    return [row["sku"] for row in response.json()["products"]]


def test_rows_are_upserted_settled_and_scoped(stack: Stack) -> None:
    worker = stack.client("worker")
    tenant, other = stack.new_tenant()["id"], stack.new_tenant()["id"]
    document, others_document = _document(stack, tenant), _document(stack, other)
    first = _send(worker, document, [_row("A-1", "Marsa Sofa"), _row("A-2", "Liwa Table"), _row("A-3", "Qasr Chair")])
    assert _settle(worker, document, first) == 0
    _send(worker, others_document, [_row("B-1", "Other Sofa"), _row("A-1", "Other Marsa", "999")])

    # Re-uploaded without A-3 and with A-1's price changed: A-3 goes, A-1 is updated in place.
    second = _send(worker, document, [_row("A-1", "Marsa Sofa", "4850"), _row("A-2", "Liwa Table")])
    assert _settle(worker, document, second) == 1
    rows = worker.get(f"/internal/v1/tenants/{tenant}/products").json()["products"]
    assert [(r["sku"], r["price"], r["document_id"], r["document"]) for r in rows] == [
        ("A-1", "4850", document, "catalog.csv"),
        ("A-2", "100", document, "catalog.csv"),
    ]
    assert rows[0]["attributes"] == {"colors": "Sand"} and rows[0]["in_stock"] is True
    assert _skus(worker, other) == ["A-1", "B-1"]  # the same SKU in another tenant is its own row

    # A partner key with knowledge:read sees its own tenant's rows only.
    partner = stack.client_with_key(stack.new_key(tenant, "knowledge:read"))
    listed = partner.get("/api/v1/knowledge/products")
    assert listed.status_code == 200 and [r["sku"] for r in listed.json()["products"]] == ["A-1", "A-2"]

    # Deleting the document removes its rows.
    assert worker.delete(f"/internal/v1/documents/{document}").status_code == 204
    assert _skus(worker, tenant) == []
    assert _skus(worker, other) == ["A-1", "B-1"]


@pytest.mark.parametrize("caller", ["service", "admin", None])
def test_only_the_worker_reaches_the_internal_routes(stack: Stack, caller: str | None) -> None:
    tenant = stack.new_tenant()["id"]
    document = _document(stack, tenant)
    client = stack.client(caller)
    body = {"generation": uuid.uuid4().hex, "products": [_row("X-1", "Sneaky")]}
    assert client.post(f"/internal/v1/documents/{document}/products", json=body).status_code in (401, 403)
    assert client.post(f"/internal/v1/documents/{document}/products/settle", json=body).status_code in (401, 403)
    assert client.get(f"/internal/v1/tenants/{tenant}/products").status_code in (401, 403)
    assert _skus(stack.client("worker"), tenant) == []


def test_a_partner_key_needs_knowledge_read(stack: Stack) -> None:
    tenant = stack.new_tenant()["id"]
    assert stack.client(None).get("/api/v1/knowledge/products").status_code == 401
    writer = stack.client_with_key(stack.new_key(tenant, "messages:write"))
    assert writer.get("/api/v1/knowledge/products").status_code == 403


def test_bad_bodies_get_a_4xx(stack: Stack) -> None:
    worker = stack.client("worker")
    document = _document(stack, stack.new_tenant()["id"])
    url = f"/internal/v1/documents/{document}/products"
    assert worker.post(url, json={"generation": "not-hex", "products": []}).status_code == 422
    assert worker.post(url, json={"generation": uuid.uuid4().hex, "products": [{"sku": ""}]}).status_code == 422
    missing = f"/internal/v1/documents/{uuid.uuid4().hex}/products"
    assert worker.post(missing, json={"generation": uuid.uuid4().hex, "products": []}).status_code == 404


def test_the_worker_client_sends_a_large_catalog_in_batches(sqlite_stack: Stack) -> None:
    """3000 rows are more than one request body may carry: the client batches them, then settles."""
    tenant = sqlite_stack.new_tenant()["id"]
    document = _document(sqlite_stack, tenant)
    rows = [ProductRow(sku=f"S-{i:04d}", name=f"Sofa number {i} " + "x" * 60, price=str(i)) for i in range(3000)]
    assert len(list(product_batches(rows))) > 1
    client = GatewayClient(base_url=sqlite_stack.url, token=TOKENS["worker"])
    try:
        assert client.document_products(document, rows) == 0
        assert len(client.products(tenant)) == 3000
        assert client.document_products(document, rows[:10]) == 2990
        assert [row.sku for row in client.products(tenant)] == [f"S-{i:04d}" for i in range(10)]
    finally:
        client.close()


def test_product_batches_respect_the_size() -> None:
    rows = [ProductRow(sku=f"S-{i}", name="n" * 100) for i in range(50)]
    batches = list(product_batches(rows, max_bytes=1000))
    assert [row for batch in batches for row in batch] == rows
    assert all(sum(len(r.model_dump_json(exclude_none=True)) + 1 for r in batch) <= 1000 for batch in batches)


def test_the_runtime_caches_products_per_knowledge_version(sqlite_stack: Stack) -> None:
    tenant = sqlite_stack.new_tenant()["id"]
    document = _document(sqlite_stack, tenant)
    client = GatewayClient(base_url=sqlite_stack.url, token=TOKENS["worker"])
    redis = Redis.from_url(sqlite_stack.settings.redis_url)
    runtime = Runtime(
        settings=WorkerSettings(),
        redis=redis,
        gateway=client,
        store=cast(Any, None),
        retriever=cast(Any, None),
        llm=None,
    )
    try:
        client.document_products(document, [ProductRow(sku="C-1", name="Chair")])
        first = runtime.products_for(tenant)
        assert [row.sku for row in first] == ["C-1"] and runtime.products_for(tenant) is first  # cached
        client.document_products(document, [ProductRow(sku="C-2", name="Chair two")])
        assert runtime.products_for(tenant) is first  # not re-read until the knowledge changes
        runtime.knowledge_changed(tenant)
        assert [row.sku for row in runtime.products_for(tenant)] == ["C-2"]
        client.document_products(document, [ProductRow(sku="C-3", name="Chair three")])
        redis.incr(KNOWLEDGE_VERSION_PREFIX + tenant)  # what another worker's ingestion does
        assert [row.sku for row in runtime.products_for(tenant)] == ["C-3"]
    finally:
        client.close()
        redis.close()


def test_the_cli_ingests_a_catalog_into_the_default_tenant(sqlite_stack: Stack) -> None:
    """`python -m ai_worker ingest` (what `make run` loads the sample with) fills the table too."""
    result = run_cli_ingest(sqlite_stack, SAMPLE_KB / "catalog.csv")
    assert result.returncode == 0, result.stdout + result.stderr
    listed = sqlite_stack.client("admin").get("/api/v1/knowledge/products")
    assert listed.status_code == 200
    rows = {row["sku"]: row for row in listed.json()["products"]}
    assert len(rows) == 69 and rows["DO-ARM-2048"]["price"] == "3450" and rows["DO-ARM-2048"]["currency"] == "AED"
