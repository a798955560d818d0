"""Knowledge documents: stored whole in the database, chunked and embedded by a worker."""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import PurePath

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.models import Document, utcnow
from parley_contract.schemas import DocumentIngested, DocumentOut

#: File endings we can parse, with the content type we record for them.
SUPPORTED_TYPES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".txt": "text/plain",
    ".pdf": "application/pdf",
    ".html": "text/html",
    ".htm": "text/html",
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class UnsupportedDocumentType(Exception):
    pass


def content_type_for(filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()
    if suffix not in SUPPORTED_TYPES:
        guessed = mimetypes.guess_type(filename)[0] or "unknown"
        raise UnsupportedDocumentType(
            f"'{filename}' ({guessed}) is not supported; upload one of: {', '.join(sorted(set(SUPPORTED_TYPES)))}"
        )
    return SUPPORTED_TYPES[suffix]


def document_out(document: Document) -> DocumentOut:
    return DocumentOut.model_validate(document, from_attributes=True)


async def store_document(
    session: AsyncSession, *, tenant_id: str, filename: str, content: bytes
) -> tuple[Document, bool]:
    """Insert or replace a document by name; returns it and whether it needs (re)ingesting."""
    name = PurePath(filename).name
    content_type = content_type_for(name)
    sha256 = hashlib.sha256(content).hexdigest()
    result = await session.exec(select(Document).where(Document.tenant_id == tenant_id, Document.name == name))
    document = result.first()
    if document is not None and document.sha256 == sha256 and document.status in ("ready", "queued", "ingesting"):
        return document, False
    if document is None:
        document = Document(
            tenant_id=tenant_id,
            name=name,
            content_type=content_type,
            size_bytes=len(content),
            sha256=sha256,
            content=content,
        )
    else:
        document.content_type = content_type
        document.size_bytes = len(content)
        document.sha256 = sha256
        document.content = content
        document.status = "queued"
        document.error = None
        document.updated_at = utcnow()
    session.add(document)
    await session.commit()
    await session.refresh(document)
    return document, True


async def list_documents(session: AsyncSession, *, tenant_id: str) -> list[Document]:
    result = await session.exec(select(Document).where(Document.tenant_id == tenant_id).order_by(col(Document.name)))
    return list(result.all())


async def get_document(session: AsyncSession, *, tenant_id: str | None, document_id: str) -> Document | None:
    document = await session.get(Document, document_id)
    if document is None or (tenant_id is not None and document.tenant_id != tenant_id):
        return None
    return document


async def set_status(session: AsyncSession, *, document: Document, status: str) -> Document:
    document.status = status
    document.updated_at = utcnow()
    session.add(document)
    await session.commit()
    await session.refresh(document)
    return document


async def record_ingestion(session: AsyncSession, *, document: Document, outcome: DocumentIngested) -> Document:
    if document.status == "deleting":
        return document  # a delete overtook the ingestion; the delete job wins
    document.status = outcome.status
    document.chunk_count = outcome.chunk_count
    document.error = outcome.error
    document.updated_at = utcnow()
    session.add(document)
    await session.commit()
    await session.refresh(document)
    return document


async def remove_document(session: AsyncSession, *, document: Document) -> None:
    await session.delete(document)
    await session.commit()
