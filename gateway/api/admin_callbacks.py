"""Admin API: a tenant's callback deliveries (list, read, redeliver)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status

from gateway.deps import AdminTenant, SessionDep, StateDep
from gateway.models import CallbackDelivery, as_utc
from gateway.schemas import (
    AUTHENTICATED_ERRORS,
    CallbackDeliveryDetail,
    CallbackDeliveryOut,
    DeliveryStatus,
    error_responses,
)
from gateway.services import callbacks

#: Our ids are hex; anything else is refused (422) before it reaches the database.
DeliveryId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]

router = APIRouter(
    prefix="/api/v1/admin/tenants/{tenant_id}/callbacks", tags=["admin: callbacks"], responses=AUTHENTICATED_ERRORS
)


def delivery_out(delivery: CallbackDelivery) -> CallbackDeliveryOut:
    return CallbackDeliveryOut(**_fields(delivery))


def delivery_detail(delivery: CallbackDelivery) -> CallbackDeliveryDetail:
    return CallbackDeliveryDetail(**_fields(delivery), payload=delivery.payload)


def _fields(delivery: CallbackDelivery) -> dict[str, object]:
    return {
        "id": delivery.id,
        "task_id": delivery.task_id,
        "url": delivery.url,
        "event": str(delivery.payload.get("type", "")),
        "status": DeliveryStatus(delivery.status),
        "attempts": delivery.attempts,
        "next_attempt_at": as_utc(delivery.next_attempt_at),
        "last_error": delivery.last_error,
        "last_status_code": delivery.last_status_code,
        "created_at": as_utc(delivery.created_at),
        "delivered_at": as_utc(delivery.delivered_at) if delivery.delivered_at else None,
    }


@router.get("", response_model=list[CallbackDeliveryOut], responses=error_responses(404))
async def list_deliveries(
    tenant: AdminTenant,
    session: SessionDep,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    task_id: Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[CallbackDeliveryOut]:
    """The tenant's callback deliveries, newest first; `status=failed` lists the ones given up on."""
    found = await callbacks.list_deliveries(
        session, tenant_id=tenant.id, status=status_, task_id=task_id, limit=limit, offset=offset
    )
    return [delivery_out(d) for d in found]


async def _delivery(session: SessionDep, tenant: AdminTenant, delivery_id: str) -> CallbackDelivery:
    delivery = await callbacks.get_delivery(session, tenant_id=tenant.id, delivery_id=delivery_id)
    if delivery is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no callback delivery {delivery_id!r}")
    return delivery


@router.get("/{delivery_id}", response_model=CallbackDeliveryDetail, responses=error_responses(404))
async def read_delivery(delivery_id: DeliveryId, tenant: AdminTenant, session: SessionDep) -> CallbackDeliveryDetail:
    """One delivery with the event body it POSTs."""
    return delivery_detail(await _delivery(session, tenant, delivery_id))


@router.post("/{delivery_id}/redeliver", response_model=CallbackDeliveryOut, responses=error_responses(404, 409))
async def redeliver(
    delivery_id: DeliveryId, tenant: AdminTenant, session: SessionDep, state: StateDep
) -> CallbackDeliveryOut:
    """Send a failed (or delivered) event again: back to pending, attempts from zero, due now.
    The event keeps its id, so a receiver that saw it already can tell."""
    delivery = await _delivery(session, tenant, delivery_id)
    again = await callbacks.redeliver(session, delivery=delivery)
    if again is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "the delivery is pending: it is being retried already")
    if state.callbacks is not None:
        state.callbacks.wake()
    return delivery_out(again)
