"""A catalog upload through the real worker: its rows arrive in the products table, a re-upload
without a row removes it, an XLSX catalog works too, and deleting the document removes its rows."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
from openpyxl import Workbook

from parley_testkit.servers import wait_until
from parley_testkit.stack import Stack

SAMPLE = Path(__file__).resolve().parents[2] / "sample_kb" / "catalog.csv"


def _upload(client: httpx.Client, name: str, data: bytes) -> str:
    response = client.post("/api/v1/knowledge/documents", files={"file": (name, data)})
    assert response.status_code == 202, response.text
    document_id: str = response.json()["document_id"]
    return document_id


def _ready(client: httpx.Client, document_id: str) -> None:
    def done() -> bool:
        status = client.get(f"/api/v1/knowledge/documents/{document_id}").json()["status"]
        assert status != "failed"
        return bool(status == "ready")

    wait_until(done, timeout=180, what=f"document {document_id} ready")


def _products(client: httpx.Client) -> dict[str, dict[str, Any]]:
    response = client.get("/api/v1/knowledge/products")
    assert response.status_code == 200, response.text
    return {row["sku"]: row for row in response.json()["products"]}


def _wait_products(client: httpx.Client, count: int) -> dict[str, dict[str, Any]]:
    wait_until(lambda: len(_products(client)) == count, timeout=180, what=f"{count} products")
    return _products(client)


def test_sample_catalog_rows_arrive_and_removed_rows_go(partner_stack: Stack) -> None:
    tenant = partner_stack.new_tenant()["id"]
    client = partner_stack.client_with_key(partner_stack.new_key(tenant, "knowledge:read", "knowledge:write"))
    document = _upload(client, "catalog.csv", SAMPLE.read_bytes())
    _ready(client, document)
    rows = _wait_products(client, 69)
    sofa_bed = rows["DO-SOF-1088"]
    assert (sofa_bed["name"], sofa_bed["price"], sofa_bed["currency"], sofa_bed["stock"]) == (
        "Jumeirah Sofa Bed",
        "3950",
        "AED",
        0,
    )
    assert sofa_bed["document"] == "catalog.csv" and sofa_bed["attributes"]["material"].startswith("Metal")
    assert client.get(f"/api/v1/knowledge/documents/{document}").json()["chunk_count"] == 69  # still chunked

    lines = SAMPLE.read_text().splitlines(keepends=True)
    without = "".join(line for line in lines if not line.startswith("DO-SOF-1088")).replace(
        "DO-ARM-2048,Najd Leather Recliner,Armchairs,3450", "DO-ARM-2048,Najd Leather Recliner,Armchairs,3300"
    )
    assert _upload(client, "catalog.csv", without.encode()) == document
    rows = _wait_products(client, 68)
    assert "DO-SOF-1088" not in rows and rows["DO-ARM-2048"]["price"] == "3300"

    assert client.delete(f"/api/v1/knowledge/documents/{document}").status_code in (202, 204)
    _wait_products(client, 0)


def test_xlsx_catalog_with_other_columns(partner_stack: Stack) -> None:
    tenant = partner_stack.new_tenant()["id"]
    client = partner_stack.client_with_key(partner_stack.new_key(tenant, "knowledge:read", "knowledge:write"))
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Code", "Title", "Price (USD)", "Available", "Duration"])
    sheet.append(["TR-10", "Desert safari", 85, 12, "6 hours"])
    sheet.append(["TR-11", "Dhow cruise", 99.5, 0, "2 hours"])
    buffer = io.BytesIO()
    book.save(buffer)
    document = _upload(client, "tours.xlsx", buffer.getvalue())
    _ready(client, document)
    rows = _wait_products(client, 2)
    assert (rows["TR-11"]["price"], rows["TR-11"]["currency"], rows["TR-11"]["in_stock"]) == ("99.5", "USD", False)
    assert rows["TR-10"]["attributes"] == {"Duration": "6 hours"}
    # A tenant sees only its own catalog.
    assert "DO-SOF-1042" not in rows
