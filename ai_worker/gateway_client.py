"""The worker's HTTP client of the gateway's internal API (the worker never touches the database)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
from pydantic import BaseModel, TypeAdapter
from tenacity import retry, retry_if_exception, stop_after_delay, wait_exponential_jitter

from parley_contract.curated import CuratedAnswerOut, DocumentCuratedPairs
from parley_contract.logging import request_id_headers
from parley_contract.products import ProductBatch, ProductRow, ProductsOut, ProductsSettle
from parley_contract.schemas import (
    DocumentAccepted,
    DocumentIngested,
    TaskClaim,
    TaskCompletion,
    TaskFailure,
    TaskLease,
    TaskNotReady,
)

#: A batch of product rows stays well under the gateway's request body cap (MAX_BODY_BYTES, 256 KiB).
PRODUCT_BATCH_BYTES = 128 * 1024


class GatewayError(Exception):
    pass


class ClaimDeferred(Exception):
    """The task must wait (an earlier message of its conversation, or its burst); the gateway puts it back."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _transient(exc: BaseException) -> bool:
    """A dropped connection or a 5xx. Not parley_contract.runtime.retry.transient_status: on the
    internal API 425 is the gateway's answer "this claim must wait" (ClaimDeferred), which the job
    hands back to the queue at once instead of retrying here, and 408/429 are never sent to a worker."""
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code >= 500


_retrying = retry(
    retry=retry_if_exception(_transient),
    wait=wait_exponential_jitter(multiplier=0.2, max=5, jitter=0.2),
    stop=stop_after_delay(60),
    reraise=True,
)


def _json(model: BaseModel) -> dict[str, Any]:
    return {"content": model.model_dump_json(), "headers": {"Content-Type": "application/json"}}


def product_batches(rows: Sequence[ProductRow], *, max_bytes: int = PRODUCT_BATCH_BYTES) -> Iterator[list[ProductRow]]:
    """The rows in batches whose JSON stays under `max_bytes` (a row over it goes alone)."""
    batch: list[ProductRow] = []
    size = 0
    for row in rows:
        row_size = len(row.model_dump_json(exclude_none=True)) + 1
        if batch and size + row_size > max_bytes:
            yield batch
            batch, size = [], 0
        batch.append(row)
        size += row_size
    if batch:
        yield batch


def _send_request_id(request: httpx.Request) -> None:
    """Calls made while a job runs carry its task's request id, so the gateway logs it too."""
    request.headers.update(request_id_headers())


class DocumentContent:
    def __init__(self, response: httpx.Response) -> None:
        self.data = response.content
        self.tenant_id = response.headers["X-Parley-Tenant"]
        self.name = unquote(response.headers["X-Parley-Document-Name"])
        self.sha256 = response.headers["X-Parley-Sha256"]
        self.status = response.headers["X-Parley-Status"]


class GatewayClient:
    def __init__(self, *, base_url: str, token: str, transport: httpx.BaseTransport | None = None) -> None:
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/internal/v1/",
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(30.0, connect=5.0),
            transport=transport,
            event_hooks={"request": [_send_request_id]},
        )

    def close(self) -> None:
        self._client.close()

    @_retrying
    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = self._client.request(method, url, **kwargs)
        if response.status_code >= 500:
            response.raise_for_status()
        return response

    def _ok(self, response: httpx.Response) -> httpx.Response:
        if response.is_error:
            raise GatewayError(
                f"gateway answered {response.status_code} to {response.request.url}: {response.text[:300]}"
            )
        return response

    def claim(self, task_id: str) -> TaskClaim | None:
        """The task's context, or None when it is finished, merged or another worker holds it.

        Raises ClaimDeferred (425) when it may not run yet.
        """
        response = self._request("POST", f"tasks/{task_id}/claim")
        if response.status_code in (404, 409):
            return None
        if response.status_code == 425:
            raise ClaimDeferred(TaskNotReady.model_validate_json(response.content).reason)
        return TaskClaim.model_validate_json(self._ok(response).content)

    def renew_lease(self, task_id: str, *, attempt: int, timeout: float) -> bool | None:
        """True: renewed; False: the task is finished or claimed again; None: unknown (gateway unreachable).

        One try, no retry loop: the next heartbeat is the retry, and a lost lease must be noticed in time.
        """
        try:
            response = self._client.post(f"tasks/{task_id}/lease", timeout=timeout, **_json(TaskLease(attempt=attempt)))
        except httpx.TransportError:
            return None
        if response.status_code == 409:
            return False
        return True if response.is_success else None

    def complete(self, task_id: str, completion: TaskCompletion) -> bool:
        response = self._request("POST", f"tasks/{task_id}/complete", **_json(completion))
        return bool(self._ok(response).json()["stored"])

    def fail(self, task_id: str, failure: TaskFailure) -> bool:
        response = self._request("POST", f"tasks/{task_id}/fail", **_json(failure))
        return bool(self._ok(response).json()["stored"])

    def document_content(self, document_id: str) -> DocumentContent | None:
        response = self._request("GET", f"documents/{document_id}/content")
        if response.status_code == 404:
            return None
        return DocumentContent(self._ok(response))

    def document_ingested(self, document_id: str, outcome: DocumentIngested) -> None:
        self._ok(self._request("POST", f"documents/{document_id}/ingested", **_json(outcome)))

    def document_deleted(self, document_id: str) -> None:
        self._ok(self._request("DELETE", f"documents/{document_id}"))

    def document_products(self, document_id: str, rows: Sequence[ProductRow]) -> int:
        """Store a catalog document's rows (upsert by SKU), then remove its rows not sent; how many removed."""
        generation = uuid.uuid4().hex
        for batch in product_batches(rows):
            body = ProductBatch(generation=generation, products=batch)
            content = body.model_dump_json(exclude_none=True)
            headers = {"Content-Type": "application/json"}
            self._ok(self._request("POST", f"documents/{document_id}/products", content=content, headers=headers))
        settle = ProductsSettle(generation=generation)
        response = self._ok(self._request("POST", f"documents/{document_id}/products/settle", **_json(settle)))
        return int(response.json()["removed"])

    def products(self, tenant_id: str) -> list[ProductRow]:
        response = self._request("GET", f"tenants/{tenant_id}/products")
        return ProductsOut.model_validate_json(self._ok(response).content).products

    def register_document(self, path: Path, *, tenant_id: str) -> DocumentAccepted:
        response = self._request(
            "POST",
            "documents",
            data={"tenant_id": tenant_id},
            files={"file": (path.name, path.read_bytes())},
        )
        return DocumentAccepted.model_validate_json(self._ok(response).content)

    # --- Curated answers (issue #16) ---

    def put_curated_pairs(self, document_id: str, pairs: DocumentCuratedPairs) -> None:
        """The pairs extracted from the document replace its earlier ones."""
        self._ok(self._request("PUT", f"documents/{document_id}/curated-answers", **_json(pairs)))

    def curated_pairs_deleted(self, document_id: str) -> None:
        self._ok(self._request("DELETE", f"documents/{document_id}/curated-answers"))

    def curated_answers(self, tenant_id: str) -> list[CuratedAnswerOut]:
        response = self._ok(self._request("GET", f"tenants/{quote(tenant_id, safe='')}/curated-answers"))
        return _CURATED_LIST.validate_json(response.content)


_CURATED_LIST = TypeAdapter(list[CuratedAnswerOut])
