"""The one ingestion pipeline behind the API's jobs and the CLI."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ai_worker.gateway_client import GatewayClient
from ai_worker.ingestion.chunking import make_chunks
from ai_worker.ingestion.isolated import parse_isolated
from ai_worker.ingestion.parsers import ParseLimits
from ai_worker.retrieval.store import VectorStore
from ai_worker.settings import WorkerSettings
from parley_contract.products import ProductRow

log = logging.getLogger(__name__)


@dataclass
class IngestOutcome:
    chunk_count: int
    added: int
    removed: int
    #: The file's product rows when it is a catalog (CSV/XLSX); None for any other document.
    products: list[ProductRow] | None = None


def parse_limits(settings: WorkerSettings) -> ParseLimits:
    return ParseLimits(
        max_pages=settings.ingest_max_pages,
        max_chars=settings.ingest_max_chars,
        timeout_seconds=settings.ingest_parse_timeout_seconds,
        max_memory_mb=settings.ingest_parse_max_memory_mb,
    )


def ingest(
    store: VectorStore,
    *,
    tenant_id: str,
    document_id: str,
    name: str,
    data: bytes,
    max_chars: int = 900,
    overlap: int = 150,
    progress: bool = False,
    limits: ParseLimits | None = None,
) -> IngestOutcome:
    """Parse (in a child process, within `limits`), chunk and embed; only chunks whose content is new
    are embedded, stale ones removed. A document over a limit raises DocumentOverLimit."""
    parsed = parse_isolated(name=name, data=data, limits=limits or ParseLimits())
    chunks = make_chunks(parsed, document_id=document_id, document=name, max_chars=max_chars, overlap=overlap)
    existing = store.chunk_ids(tenant_id, document_id)
    wanted = {c.id for c in chunks}
    to_add = [c for c in chunks if c.id not in existing]
    stale = sorted(existing - wanted)
    store.add(tenant_id, to_add, progress=progress)
    store.delete(tenant_id, stale)
    log.info("ingested %s: %d chunks (%d new, %d removed)", name, len(chunks), len(to_add), len(stale))
    return IngestOutcome(chunk_count=len(chunks), added=len(to_add), removed=len(stale), products=parsed.products)


#: Files whose rows may be a catalog: when one is no longer a catalog its old rows are removed.
TABLE_SUFFIXES = (".csv", ".xlsx")


def sync_products(gateway: GatewayClient, *, document_id: str, name: str, outcome: IngestOutcome) -> int | None:
    """Send a table document's product rows to the gateway (none when it is not a catalog), which
    removes the document's rows not sent; how many it removed, or None for a document of another kind."""
    if outcome.products is None and not name.lower().endswith(TABLE_SUFFIXES):
        return None
    removed = gateway.document_products(document_id, outcome.products or [])
    log.info("%s: %d product rows (%d removed)", name, len(outcome.products or []), removed)
    return removed
