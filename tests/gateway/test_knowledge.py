"""Knowledge documents and search through the gateway, ingested by the real worker."""

from __future__ import annotations

import uuid
from pathlib import Path

from parley_testkit.stack import Stack


def search(stack: Stack, query: str, top_k: int = 5) -> list[dict[str, object]]:
    response = stack.client().post("/api/v1/knowledge/search", json={"query": query, "top_k": top_k})
    assert response.status_code == 200, response.text
    hits: list[dict[str, object]] = response.json()["hits"]
    return hits


def test_sample_documents_are_listed_ready_with_chunks(stack: Stack) -> None:
    documents = {d["name"]: d for d in stack.client("admin").get("/api/v1/knowledge/documents").json()}
    assert {"faq.md", "delivery-and-returns.md", "catalog.csv", "warranty-and-care.pdf"} <= set(documents)
    assert all(d["status"] == "ready" and d["chunk_count"] > 0 for d in documents.values())
    products = len((Path(__file__).parents[2] / "sample_kb" / "catalog.csv").read_text().strip().splitlines()) - 1
    assert documents["catalog.csv"]["chunk_count"] == products


def test_unsupported_type_is_415(stack: Stack) -> None:
    response = stack.client("admin").post(
        "/api/v1/knowledge/documents", files={"file": ("virus.exe", b"MZ\x90\x00", "application/octet-stream")}
    )
    assert response.status_code == 415
    assert ".pdf" in response.json()["detail"]


def test_service_token_cannot_upload(stack: Stack) -> None:
    response = stack.client("service").post("/api/v1/knowledge/documents", files={"file": ("a.txt", b"hello")})
    assert response.status_code == 403


def test_upload_unchanged_changed_and_delete(stack: Stack, tmp_path: Path) -> None:
    marker = uuid.uuid4().hex[:8]
    name = f"pets-{marker}.md"
    path = tmp_path / name
    path.write_text(f"# Pets\n\nThe showroom cat is called Zaatar{marker} and sleeps on the Marsa sofa.\n")
    first = stack.upload(path)
    assert first["changed"] is True
    assert stack.wait_document(first["document_id"])["status"] == "ready"
    assert any(f"Zaatar{marker}" in str(h["excerpt"]) for h in search(stack, f"Zaatar{marker}"))

    again = stack.upload(path)
    assert again == {"document_id": first["document_id"], "status": "ready", "changed": False}

    path.write_text(f"# Pets\n\nThe showroom dog is called Kabsa{marker}; we no longer have a cat.\n")
    changed = stack.upload(path)
    assert changed["changed"] is True and changed["document_id"] == first["document_id"]
    assert stack.wait_document(first["document_id"])["chunk_count"] == 1
    excerpts = " ".join(str(h["excerpt"]) for h in search(stack, f"Zaatar{marker} Kabsa{marker}", top_k=10))
    assert f"Kabsa{marker}" in excerpts and f"Zaatar{marker}" not in excerpts

    deleted = stack.client("admin").delete(f"/api/v1/knowledge/documents/{first['document_id']}")
    assert deleted.status_code == 202 and deleted.json()["status"] == "deleting"
    assert stack.wait_document(first["document_id"], statuses=("gone",))["status"] == "gone"
    assert not any(f"Kabsa{marker}" in str(h["excerpt"]) for h in search(stack, f"Kabsa{marker}", top_k=10))


def test_search_finds_a_product_by_sku(stack: Stack) -> None:
    import csv

    with (Path(__file__).parents[2] / "sample_kb" / "catalog.csv").open() as f:
        row = list(csv.DictReader(f))[17]
    hits = search(stack, f"is {row['sku']} in stock?", top_k=3)
    assert row["sku"] in str(hits[0]["excerpt"]), hits


def test_search_validation(stack: Stack) -> None:
    client = stack.client()
    assert client.post("/api/v1/knowledge/search", json={"query": ""}).status_code == 422
    assert client.post("/api/v1/knowledge/search", json={"query": "sofa", "top_k": 0}).status_code == 422
