"""Splitting text into overlapping chunks at natural boundaries (semantic-text-splitter)."""

from __future__ import annotations

import hashlib

from semantic_text_splitter import MarkdownSplitter, TextSplitter

from ai_worker.ingestion.parsers import ParsedDocument
from ai_worker.retrieval.store import Chunk


def chunk_id(document_id: str, text: str) -> str:
    """Stable per content: an unchanged chunk keeps its id, so re-ingesting skips it."""
    return f"{document_id}-{hashlib.sha256(text.encode()).hexdigest()[:24]}"


def split(parsed: ParsedDocument, *, max_chars: int, overlap: int) -> list[str]:
    if parsed.kind == "records":
        return [p.strip() for p in parsed.parts if p.strip()]
    capacity = (max(max_chars // 2, 1), max_chars)
    splitter = (
        MarkdownSplitter(capacity, overlap=overlap)
        if parsed.kind == "markdown"
        else TextSplitter(capacity, overlap=overlap)
    )
    return [c.strip() for part in parsed.parts for c in splitter.chunks(part) if c.strip()]


def make_chunks(
    parsed: ParsedDocument, *, document_id: str, document: str, max_chars: int = 900, overlap: int = 150
) -> list[Chunk]:
    chunks: dict[str, Chunk] = {}
    for index, text in enumerate(split(parsed, max_chars=max_chars, overlap=overlap)):
        cid = chunk_id(document_id, text)
        chunks.setdefault(cid, Chunk(id=cid, text=text, document_id=document_id, document=document, index=index))
    return list(chunks.values())
