"""Turning an uploaded file into text, with maintained parsers for each format."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import PurePath

from bs4 import BeautifulSoup
from pypdf import PdfReader

from ai_worker.catalog.columns import parse_catalog, read_xlsx
from parley_contract.products import ProductRow


class UnreadableDocument(Exception):
    pass


class DocumentOverLimit(UnreadableDocument):
    """The document is over one of the per-document limits (pages, characters, parse time, memory)."""


@dataclass(frozen=True)
class ParseLimits:
    """What one document may cost to parse; the defaults are WorkerSettings' INGEST_* defaults."""

    max_pages: int = 500
    max_chars: int = 5_000_000
    #: Enforced by `ai_worker.ingestion.isolated`, which parses in a child process it can kill.
    timeout_seconds: float = 60.0
    max_memory_mb: int = 1024


@dataclass
class ParsedDocument:
    #: "markdown" and "text" are split into overlapping chunks; "records" are one chunk each.
    kind: str
    parts: list[str]
    #: A catalog's product rows (a CSV or XLSX with SKU, name and price columns); None for any other file.
    products: list[ProductRow] | None = None

    @property
    def chars(self) -> int:
        return sum(len(part) for part in self.parts)


def _too_many_chars(limits: ParseLimits) -> DocumentOverLimit:
    return DocumentOverLimit(
        f"the document has more characters of text than the limit of {limits.max_chars} (INGEST_MAX_CHARS); "
        "split it into smaller files"
    )


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def parse_pdf(data: bytes, *, limits: ParseLimits) -> ParsedDocument:
    try:
        reader = PdfReader(io.BytesIO(data))
        page_count = len(reader.pages)
    except Exception as exc:
        raise UnreadableDocument(f"not a readable PDF: {exc}") from exc
    # Counted before any page is read: text extraction is the expensive part.
    if page_count > limits.max_pages:
        raise DocumentOverLimit(
            f"the PDF has {page_count} pages, over the limit of {limits.max_pages} (INGEST_MAX_PAGES); "
            "split it into smaller files"
        )
    pages: list[str] = []
    chars = 0
    for page in reader.pages:
        try:
            text = (page.extract_text() or "").strip()
        except Exception as exc:
            raise UnreadableDocument(f"not a readable PDF: {exc}") from exc
        pages.append(text)
        chars += len(text)
        if chars > limits.max_chars:
            raise _too_many_chars(limits)
    text = "\n\n".join(p for p in pages if p)
    if not text:
        raise UnreadableDocument("the PDF has no extractable text (scanned pages need OCR)")
    return ParsedDocument("text", [text])


def parse_html(data: bytes) -> ParsedDocument:
    soup = BeautifulSoup(data, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return ParsedDocument("text", ["\n".join(line for line in lines if line)])


def parse_csv(data: bytes) -> ParsedDocument:
    """One record per row, rendered `column: value` so both BM25 and embeddings see the labels."""
    text = _decode(data)
    dialect: type[csv.Dialect]
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    records = []
    for row in reader:
        lines = [f"{key.strip()}: {value.strip()}" for key, value in row.items() if key and value and value.strip()]
        if lines:
            records.append("\n".join(lines))
    if not records:
        raise UnreadableDocument("the CSV has a header but no rows")
    return ParsedDocument("records", records)


def parse_xlsx(data: bytes) -> ParsedDocument:
    """The first sheet, one record per row like a CSV."""
    try:
        headers, rows = read_xlsx(data)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and ValueError kinds for a broken file
        raise UnreadableDocument(f"the spreadsheet could not be read ({type(exc).__name__})") from exc
    records = []
    for row in rows:
        lines = [
            f"{key.strip()}: {value.strip()}" for key, value in zip(headers, row, strict=False) if key and value.strip()
        ]
        if lines:
            records.append("\n".join(lines))
    if not records:
        raise UnreadableDocument("the spreadsheet has a header but no rows")
    return ParsedDocument("records", records)


def parse(name: str, data: bytes, *, limits: ParseLimits | None = None) -> ParsedDocument:
    """In this process, with the page and character limits only: run it through
    `ai_worker.ingestion.isolated.parse_isolated` for the time and memory limits."""
    limits = limits or ParseLimits()
    parsed = _parse(name, data, limits=limits)
    if parsed.chars > limits.max_chars:
        raise _too_many_chars(limits)
    if parsed.kind == "records":
        parsed.products = parse_catalog(name, data)
    return parsed


def _parse(name: str, data: bytes, *, limits: ParseLimits) -> ParsedDocument:
    suffix = PurePath(name).suffix.lower()
    if suffix in (".md", ".markdown"):
        return ParsedDocument("markdown", [_decode(data)])
    if suffix == ".txt":
        return ParsedDocument("text", [_decode(data)])
    if suffix == ".pdf":
        return parse_pdf(data, limits=limits)
    if suffix in (".html", ".htm"):
        return parse_html(data)
    if suffix == ".csv":
        return parse_csv(data)
    if suffix == ".xlsx":
        return parse_xlsx(data)
    raise UnreadableDocument(f"unsupported file type: {suffix or name}")
