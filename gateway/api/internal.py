"""Endpoints only workers call (worker token): claim and finish tasks, fetch and settle documents."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Response, status
from fastapi.responses import JSONResponse
from redis.asyncio import Redis
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.api.knowledge import UploadForm, store_upload, upload_parts
from gateway.deps import AppState, EventsDep, InternalCaller, MetricsDep, RedisDep, SessionDep, SettingsDep, StateDep
from gateway.events import TaskEvents
from gateway.metrics import GatewayMetrics
from gateway.services import curated, knowledge, products
from gateway.services.ordering import Deferred
from gateway.services.quotas import record_tokens
from gateway.services.replies import publish_reply
from gateway.services.tasks import claim_task, complete_task, fail_task, mark_reply_published, renew_lease
from gateway.services.wakeups import defer, wake_conversation
from parley_contract.curated import CuratedAnswerOut, DocumentCuratedPairs
from parley_contract.products import ProductBatch, ProductsOut, ProductsSettle
from parley_contract.schemas import (
    DocumentAccepted,
    DocumentIngested,
    DocumentOut,
    ReplyEvent,
    TaskClaim,
    TaskCompletion,
    TaskFailure,
    TaskLease,
    TaskNotReady,
)

router = APIRouter(prefix="/internal/v1", tags=["internal"], include_in_schema=False)


@router.post("/tasks/{task_id}/claim", response_model=TaskClaim)
async def claim(
    task_id: str, _: InternalCaller, session: SessionDep, settings: SettingsDep, redis: RedisDep
) -> TaskClaim | JSONResponse:
    """The task's context; 409 if it is finished, merged or held elsewhere; 425 if it must wait
    (its job ends; the gateway puts it back when it may run)."""
    claimed = await claim_task(
        session,
        task_id=task_id,
        lease_seconds=settings.task_lease_seconds,
        burst_window_seconds=settings.burst_window_seconds,
        burst_excluded_channels=settings.burst_excluded_channel_set,
    )
    if claimed is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "the task is finished or held by another worker")
    if isinstance(claimed, Deferred):
        if claimed.retry_after is not None:
            await defer(redis, task_id=task_id, delay_seconds=claimed.retry_after)
        body = TaskNotReady(reason=claimed.reason.value, detail=f"the task must wait ({claimed.reason.value})")
        return JSONResponse(body.model_dump(), status_code=status.HTTP_425_TOO_EARLY)
    return claimed


@router.post("/tasks/{task_id}/lease", status_code=status.HTTP_204_NO_CONTENT)
async def lease(
    task_id: str, renewal: TaskLease, _: InternalCaller, session: SessionDep, settings: SettingsDep
) -> None:
    renewed = await renew_lease(
        session, task_id=task_id, attempt=renewal.attempt, lease_seconds=settings.task_lease_seconds
    )
    if not renewed:
        raise HTTPException(status.HTTP_409_CONFLICT, "the task is finished or was claimed again")


@router.post("/tasks/{task_id}/complete")
async def complete(
    task_id: str,
    completion: TaskCompletion,
    _: InternalCaller,
    session: SessionDep,
    redis: RedisDep,
    events: EventsDep,
    state: StateDep,
    metrics: MetricsDep,
) -> dict[str, bool]:
    reply = await complete_task(session, task_id=task_id, completion=completion)
    if reply is not None:
        # Counted once: a repeated completion of a finished task stores nothing (reply is None).
        tokens = (completion.timings.prompt_tokens or 0) + (completion.timings.completion_tokens or 0)
        await record_tokens(redis, tenant_id=reply.tenant_id, tokens=tokens)
        await _finished(reply, session=session, redis=redis, events=events, state=state, metrics=metrics)
    return {"stored": reply is not None}


@router.post("/tasks/{task_id}/fail")
async def fail(
    task_id: str,
    failure: TaskFailure,
    _: InternalCaller,
    session: SessionDep,
    redis: RedisDep,
    events: EventsDep,
    state: StateDep,
    metrics: MetricsDep,
) -> dict[str, bool]:
    reply = await fail_task(session, task_id=task_id, failure=failure)
    if reply is not None:
        await _finished(reply, session=session, redis=redis, events=events, state=state, metrics=metrics)
    return {"stored": reply is not None}


async def _finished(
    reply: ReplyEvent,
    *,
    session: AsyncSession,
    redis: Redis,
    events: TaskEvents,
    state: AppState,
    metrics: GatewayMetrics,
) -> None:
    """After a task was answered or failed: count it, send its callback, publish its reply, wake what waits."""
    metrics.tasks_finished.labels(status=reply.status.value).inc()
    _send_callbacks_now(state)
    if await publish_reply(redis=redis, events=events, reply=reply):
        await mark_reply_published(session, task_id=reply.task_id)
    await wake_conversation(session=session, redis=redis, events=events, reply=reply)


def _send_callbacks_now(state: AppState) -> None:
    # The delivery (if the task has a callback URL) is committed: its first attempt need not wait a poll.
    if state.callbacks is not None:
        state.callbacks.wake()


@router.post("/documents", response_model=DocumentAccepted)
async def register_document(
    _: InternalCaller,
    form: UploadForm,
    session: SessionDep,
    settings: SettingsDep,
) -> DocumentAccepted:
    """Store a document the worker's CLI ingests itself (no job is queued). The form (`file`,
    `tenant_id`) is read only after the caller is checked."""
    file, fields = upload_parts(form, text_fields=("tenant_id",))
    tenant_id = fields["tenant_id"]
    document, changed = await store_upload(
        file, session=session, tenant_id=tenant_id, max_bytes=settings.max_upload_bytes
    )
    if changed:
        document = await knowledge.set_status(session, document=document, status="ingesting")
    return DocumentAccepted(document_id=document.id, status=document.status, changed=changed)


async def _document(session: SessionDep, document_id: str) -> knowledge.Document:
    document = await knowledge.get_document(session, tenant_id=None, document_id=document_id)
    if document is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no document {document_id!r}")
    return document


@router.get("/documents/{document_id}", response_model=DocumentOut)
async def document_meta(document_id: str, _: InternalCaller, session: SessionDep) -> DocumentOut:
    return knowledge.document_out(await _document(session, document_id))


@router.get("/documents/{document_id}/content")
async def document_content(document_id: str, _: InternalCaller, session: SessionDep) -> Response:
    document = await _document(session, document_id)
    if document.status == "queued":
        document = await knowledge.set_status(session, document=document, status="ingesting")
    return Response(
        content=document.content,
        media_type=document.content_type,
        headers={
            "X-Parley-Tenant": document.tenant_id,
            "X-Parley-Document-Name": quote(document.name),
            "X-Parley-Sha256": document.sha256,
            "X-Parley-Status": document.status,
        },
    )


@router.post("/documents/{document_id}/ingested", response_model=DocumentOut)
async def document_ingested(
    document_id: str, outcome: DocumentIngested, _: InternalCaller, session: SessionDep
) -> DocumentOut:
    document = await _document(session, document_id)
    return knowledge.document_out(await knowledge.record_ingestion(session, document=document, outcome=outcome))


@router.delete("/documents/{document_id}", status_code=status.HTTP_204_NO_CONTENT)
async def document_deleted(document_id: str, _: InternalCaller, session: SessionDep) -> None:
    document = await knowledge.get_document(session, tenant_id=None, document_id=document_id)
    await products.remove_document_products(session, document_id=document_id)
    if document is not None:
        await knowledge.remove_document(session, document=document)


# --- Curated answers (issue #16) ---


@router.put("/documents/{document_id}/curated-answers", response_model=list[CuratedAnswerOut])
async def document_curated_answers(
    document_id: str, body: DocumentCuratedPairs, _: InternalCaller, session: SessionDep, redis: RedisDep
) -> list[CuratedAnswerOut]:
    """The pairs extracted from a document replace its earlier ones (the document's tenant owns them)."""
    document = await _document(session, document_id)
    rows = await curated.replace_document_pairs(
        session, tenant_id=document.tenant_id, document_id=document.id, pairs=body.pairs
    )
    await curated.knowledge_changed(redis, tenant_id=document.tenant_id)
    return [curated.answer_out(r) for r in rows]


@router.delete("/documents/{document_id}/curated-answers", status_code=status.HTTP_204_NO_CONTENT)
async def document_curated_answers_deleted(document_id: str, _: InternalCaller, session: SessionDep) -> None:
    """The deleted document's pairs go with it (the worker bumps the tenant's knowledge version)."""
    await curated.remove_document_pairs(session, document_id=document_id)


@router.get("/tenants/{tenant_id}/curated-answers", response_model=list[CuratedAnswerOut])
async def tenant_curated_answers(tenant_id: str, _: InternalCaller, session: SessionDep) -> list[CuratedAnswerOut]:
    return [curated.answer_out(r) for r in await curated.list_answers(session, tenant_id=tenant_id)]


# --- Products (issue #16) ---


@router.post("/documents/{document_id}/products")
async def document_products(
    document_id: str, batch: ProductBatch, _: InternalCaller, session: SessionDep
) -> dict[str, int]:
    """Upsert some of a catalog document's rows (into the document's tenant, whatever the body says)."""
    document = await _document(session, document_id)
    stored = await products.upsert_products(
        session, document=document, generation=batch.generation, rows=batch.products
    )
    return {"stored": stored}


@router.post("/documents/{document_id}/products/settle")
async def settle_document_products(
    document_id: str, settle: ProductsSettle, _: InternalCaller, session: SessionDep
) -> dict[str, int]:
    """Remove the document's rows its latest ingestion did not send (rows removed from the file)."""
    document = await _document(session, document_id)
    return {"removed": await products.settle_products(session, document=document, generation=settle.generation)}


@router.get("/tenants/{tenant_id}/products", response_model=ProductsOut)
async def tenant_products(tenant_id: str, _: InternalCaller, session: SessionDep) -> ProductsOut:
    return ProductsOut(products=await products.list_products(session, tenant_id=tenant_id))
