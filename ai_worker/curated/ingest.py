"""The ingestion hook of curated answers: a document's FAQ pairs sent to the gateway, or removed."""

from __future__ import annotations

import logging

from ai_worker.curated.extract import extract_pairs
from ai_worker.curated.match import CuratedEntry
from ai_worker.gateway_client import GatewayClient
from parley_contract.curated import MAX_ANSWER_CHARS, MAX_PAIRS_PER_DOCUMENT, CuratedPair, DocumentCuratedPairs

log = logging.getLogger(__name__)


def sync_document_pairs(gateway: GatewayClient, *, document_id: str, name: str, data: bytes) -> int:
    """Replace the document's curated pairs by those extracted now (none: its earlier ones go). Returns how many."""
    pairs = [
        CuratedPair(question=p.question, answer=p.answer[:MAX_ANSWER_CHARS])
        for p in extract_pairs(name=name, data=data)[:MAX_PAIRS_PER_DOCUMENT]
    ]
    gateway.put_curated_pairs(document_id, DocumentCuratedPairs(pairs=pairs))
    if pairs:
        log.info("document %s: %d curated question/answer pairs", document_id, len(pairs))
    return len(pairs)


def remove_document_pairs(gateway: GatewayClient, *, document_id: str) -> None:
    gateway.curated_pairs_deleted(document_id)


def fetch_entries(gateway: GatewayClient, tenant_id: str) -> list[CuratedEntry]:
    """A tenant's curated answers as the matcher reads them (`CuratedCache`'s `fetch`)."""
    return [
        CuratedEntry(id=a.id, question=a.question, answer=a.answer, source=a.source)
        for a in gateway.curated_answers(tenant_id)
    ]
