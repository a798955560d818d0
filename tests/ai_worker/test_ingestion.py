"""Parsing, chunking and the content-hash upsert, with the real parsers, embedder and Chroma."""

from __future__ import annotations

import itertools

import pytest
from fpdf import FPDF

from ai_worker.ingestion.chunking import make_chunks
from ai_worker.ingestion.parsers import UnreadableDocument, parse
from ai_worker.ingestion.pipeline import ingest
from ai_worker.retrieval.store import VectorStore


def make_pdf(paragraphs: list[str]) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for paragraph in paragraphs:
        pdf.multi_cell(0, 6, paragraph)
        pdf.ln(4)
    return bytes(pdf.output())


def test_pdf_text_is_extracted() -> None:
    parsed = parse(
        "policy.pdf", make_pdf(["Warranty claims need the order number PX-7781.", "Teak needs oil twice a year."])
    )
    assert "PX-7781" in parsed.parts[0] and "Teak needs oil" in parsed.parts[0]


def test_broken_pdf_is_a_clear_error() -> None:
    with pytest.raises(UnreadableDocument, match="PDF"):
        parse("broken.pdf", b"%PDF-1.4 this is not really a pdf")


def test_html_drops_scripts_and_markup() -> None:
    parsed = parse("about.html", b"<html><script>var x=1;</script><h1>About</h1><p>Open <b>daily</b> 10-22.</p></html>")
    assert parsed.parts == ["About\nOpen\ndaily\n10-22."]


def test_csv_becomes_one_chunk_per_row_with_labels() -> None:
    data = b'sku,name,price_aed\nDO-SOF-0001,"Sofa, linen",4200\nDO-LMP-0002,Lamp,300\n'
    chunks = make_chunks(parse("catalog.csv", data), document_id="d", document="catalog.csv")
    assert [c.text for c in chunks] == [
        "sku: DO-SOF-0001\nname: Sofa, linen\nprice_aed: 4200",
        "sku: DO-LMP-0002\nname: Lamp\nprice_aed: 300",
    ]


def test_long_text_is_split_with_overlap() -> None:
    sentences = [f"Sentence number {i} talks about delivery slot {i}." for i in range(200)]
    chunks = make_chunks(parse("notes.txt", " ".join(sentences).encode()), document_id="d", document="notes.txt")
    assert len(chunks) > 5
    assert all(len(c.text) <= 900 for c in chunks)
    overlapping = sum(1 for a, b in itertools.pairwise(chunks) if a.text[-60:].split()[-1] in b.text[:200])
    assert overlapping >= len(chunks) - 2


def test_unchanged_reingest_does_nothing_and_a_change_replaces_chunks(store: VectorStore) -> None:
    text = "# Hours\n\nWe open at 10.\n\n# Parking\n\nFree parking behind the showroom."
    first = ingest(store, tenant_id="t1", document_id="doc", name="info.md", data=text.encode())
    assert first.added == first.chunk_count > 0
    again = ingest(store, tenant_id="t1", document_id="doc", name="info.md", data=text.encode())
    assert (again.added, again.removed) == (0, 0)
    changed = ingest(store, tenant_id="t1", document_id="doc", name="info.md", data=b"# Hours\n\nWe open at 9.")
    assert changed.added == 1 and changed.removed == first.chunk_count
    assert store.count("t1") == 1
    assert store.count("t2") == 0  # tenants never see each other's chunks


def test_all_chunks_are_read_in_pages(store: VectorStore) -> None:
    text = "\n\n".join(f"# Part {i}\n\nFact number {i} about sofa model Z{i}." for i in range(30))
    outcome = ingest(
        store, tenant_id="t1", document_id="doc", name="facts.md", data=text.encode(), max_chars=80, overlap=10
    )
    ids, texts, metadatas = store.all_chunks("t1", page=7)
    assert len(ids) == len(set(ids)) == outcome.chunk_count > 7
    assert all("Fact number" in t or "Part" in t for t in texts)
    assert {m["document"] for m in metadatas} == {"facts.md"}
