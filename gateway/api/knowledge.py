from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import FormData, UploadFile

from gateway.deps import JobsDep, KnowledgeReader, KnowledgeWriter, SessionDep, SettingsDep
from gateway.jobs import SEARCH_RETRY_AFTER_SECONDS, SearchBusy, SearchFailed, SearchTimeout
from gateway.models import Document
from gateway.schemas import AUTHENTICATED_ERRORS, error_responses
from gateway.services import knowledge, products
from parley_contract.products import ProductsOut
from parley_contract.schemas import (
    DocumentAccepted,
    DocumentOut,
    SearchRequest,
    SearchResponse,
)

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge"], responses=AUTHENTICATED_ERRORS)


async def upload_form(request: Request) -> AsyncIterator[FormData]:
    """The multipart form of an upload, read only when this dependency runs.

    Upload routes declare it after the caller's check, so an unauthenticated or unauthorised upload
    is refused before a byte of its body is read: a `File()` or `Form()` parameter would make
    FastAPI read (and spool to disk) the whole body before any dependency runs. The body's size is
    capped while it streams in by BodyLimitMiddleware. The form's files are closed afterwards.
    """
    async with request.form(max_files=1, max_fields=10) as form:
        yield form


UploadForm = Annotated[FormData, Depends(upload_form)]

#: The request body `upload_form` reads, for the OpenAPI document (the route declares no body itself).
UPLOAD_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "contentMediaType": "application/octet-stream",
                            "description": "A .md, .txt, .pdf, .html, .csv or .xlsx file",
                        }
                    },
                }
            }
        },
    }
}
UPLOAD_422 = {
    "description": "Validation Error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}},
}


def upload_parts(form: FormData, *, text_fields: tuple[str, ...] = ()) -> tuple[UploadFile, dict[str, str]]:
    """The form's `file` and text fields; 422 in FastAPI's own shape for any missing or mistyped."""
    errors: list[dict[str, Any]] = []
    file = form.get("file")
    if not isinstance(file, UploadFile):
        errors.append(_field_error("file", file, "a file"))
    texts: dict[str, str] = {}
    for name in text_fields:
        value = form.get(name)
        if isinstance(value, str):
            texts[name] = value
        else:
            errors.append(_field_error(name, value, "a text field"))
    if errors or not isinstance(file, UploadFile):
        raise RequestValidationError(errors)
    return file, texts


def _field_error(name: str, value: object, expected: str) -> dict[str, Any]:
    if value is None:
        return {"type": "missing", "loc": ("body", name), "msg": "Field required", "input": None}
    return {"type": "value_error", "loc": ("body", name), "msg": f"Value error, expected {expected}", "input": None}


async def store_upload(
    file: UploadFile, *, session: AsyncSession, tenant_id: str, max_bytes: int
) -> tuple[Document, bool]:
    """Check type (415) and size (413) of an uploaded file, then store it by name."""
    filename = file.filename or ""
    try:
        knowledge.content_type_for(filename)
    except knowledge.UnsupportedDocumentType as exc:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(exc)) from exc
    content = await file.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"the file is larger than {max_bytes} bytes")
    if not content:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "the file is empty")
    return await knowledge.store_document(session, tenant_id=tenant_id, filename=filename, content=content)


@router.post(
    "/documents",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DocumentAccepted,
    responses={**error_responses(415), 422: UPLOAD_422},
    openapi_extra=UPLOAD_OPENAPI,
)
async def upload_document(
    principal: KnowledgeWriter,
    form: UploadForm,
    session: SessionDep,
    jobs: JobsDep,
    settings: SettingsDep,
) -> DocumentAccepted:
    """Store a document and queue its ingestion; an unchanged re-upload does nothing."""
    file, _ = upload_parts(form)
    document, changed = await store_upload(
        file, session=session, tenant_id=principal.tenant_id, max_bytes=settings.max_upload_bytes
    )
    if changed:
        await jobs.enqueue_ingest(document.id, document.sha256)
    return DocumentAccepted(document_id=document.id, status=document.status, changed=changed)


@router.get("/documents", response_model=list[DocumentOut])
async def list_documents(principal: KnowledgeReader, session: SessionDep) -> list[DocumentOut]:
    documents = await knowledge.list_documents(session, tenant_id=principal.tenant_id)
    return [knowledge.document_out(d) for d in documents]


@router.get("/products", response_model=ProductsOut)
async def list_products(principal: KnowledgeReader, session: SessionDep) -> ProductsOut:
    """The tenant's catalog rows, as the worker parsed them from its CSV/XLSX catalog documents."""
    return ProductsOut(products=await products.list_products(session, tenant_id=principal.tenant_id))


@router.get("/documents/{document_id}", response_model=DocumentOut, responses=error_responses(404))
async def read_document(document_id: str, principal: KnowledgeReader, session: SessionDep) -> DocumentOut:
    document = await knowledge.get_document(session, tenant_id=principal.tenant_id, document_id=document_id)
    if document is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no document {document_id!r}")
    return knowledge.document_out(document)


@router.delete(
    "/documents/{document_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DocumentOut,
    responses=error_responses(404),
)
async def delete_document(
    document_id: str, principal: KnowledgeWriter, session: SessionDep, jobs: JobsDep
) -> DocumentOut:
    """Mark the document for deletion; a worker removes its chunks, then the document."""
    document = await knowledge.get_document(session, tenant_id=principal.tenant_id, document_id=document_id)
    if document is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no document {document_id!r}")
    document = await knowledge.set_status(session, document=document, status="deleting")
    await jobs.enqueue_delete(document.id, document.tenant_id)
    return knowledge.document_out(document)


@router.post("/search", response_model=SearchResponse, responses=error_responses(502, 503, 504))
async def search(
    request: SearchRequest, principal: KnowledgeReader, jobs: JobsDep, settings: SettingsDep
) -> SearchResponse:
    """Ranked excerpts from the same hybrid retrieval the worker answers with."""
    try:
        result = await jobs.search(
            tenant_id=principal.tenant_id,
            query=request.query,
            top_k=request.top_k,
            wait_seconds=settings.search_timeout_seconds,
        )
    except SearchBusy as exc:
        retry = {"Retry-After": str(SEARCH_RETRY_AFTER_SECONDS)}
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc), headers=retry) from exc
    except SearchTimeout as exc:
        retry = {"Retry-After": str(SEARCH_RETRY_AFTER_SECONDS)}
        raise HTTPException(status.HTTP_504_GATEWAY_TIMEOUT, str(exc), headers=retry) from exc
    except SearchFailed as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"the worker could not search: {exc}") from exc
    return SearchResponse.model_validate(result)
