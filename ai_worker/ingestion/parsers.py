"""Turning an uploaded file into text, with maintained parsers for each format."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import PurePath

from bs4 import BeautifulSoup
from pypdf import PdfReader


class UnreadableDocument(Exception):
    pass


@dataclass
class ParsedDocument:
    #: "markdown" and "text" are split into overlapping chunks; "records" are one chunk each.
    kind: str
    parts: list[str]


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def parse_pdf(data: bytes) -> ParsedDocument:
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except Exception as exc:
        raise UnreadableDocument(f"not a readable PDF: {exc}") from exc
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


def parse(name: str, data: bytes) -> ParsedDocument:
    suffix = PurePath(name).suffix.lower()
    if suffix in (".md", ".markdown"):
        return ParsedDocument("markdown", [_decode(data)])
    if suffix == ".txt":
        return ParsedDocument("text", [_decode(data)])
    if suffix == ".pdf":
        return parse_pdf(data)
    if suffix in (".html", ".htm"):
        return parse_html(data)
    if suffix == ".csv":
        return parse_csv(data)
    raise UnreadableDocument(f"unsupported file type: {suffix or name}")
