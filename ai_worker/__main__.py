"""`python -m ai_worker worker` runs a worker; `python -m ai_worker ingest PATH…` loads documents."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path
from types import FrameType

from parley_contract.logging import configure_logging

log = logging.getLogger(__name__)

SUPPORTED = {".md", ".markdown", ".txt", ".pdf", ".html", ".htm", ".csv"}


def _files(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in SUPPORTED and p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise SystemExit(f"no such file or directory: {raw}")
    return files


def ingest_command(paths: list[str], *, tenant_id: str) -> int:
    from ai_worker import runtime
    from ai_worker.curated.ingest import sync_document_pairs
    from ai_worker.ingestion.parsers import UnreadableDocument
    from ai_worker.ingestion.pipeline import ingest, parse_limits, sync_products
    from ai_worker.settings import WorkerSettings
    from parley_contract.schemas import DocumentIngested

    settings = WorkerSettings()
    try:
        rt = runtime.load(settings, with_llm=False)
    except runtime.StoreBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failures = 0
    try:
        for path in _files(paths):
            accepted = rt.gateway.register_document(path, tenant_id=tenant_id)
            if not accepted.changed:
                print(f"{path.name}: unchanged, nothing to do")
                continue
            try:
                outcome = ingest(
                    rt.store,
                    tenant_id=tenant_id,
                    document_id=accepted.document_id,
                    name=path.name,
                    data=path.read_bytes(),
                    max_chars=settings.chunk_max_chars,
                    overlap=settings.chunk_overlap_chars,
                    progress=True,
                    limits=parse_limits(settings),
                )
            except UnreadableDocument as exc:
                failures += 1
                rt.gateway.document_ingested(accepted.document_id, DocumentIngested(status="failed", error=str(exc)))
                print(f"{path.name}: failed: {exc}", file=sys.stderr)
                continue
            sync_document_pairs(rt.gateway, document_id=accepted.document_id, name=path.name, data=path.read_bytes())
            sync_products(rt.gateway, document_id=accepted.document_id, name=path.name, outcome=outcome)
            rt.gateway.document_ingested(
                accepted.document_id, DocumentIngested(status="ready", chunk_count=outcome.chunk_count)
            )
            print(f"{path.name}: {outcome.chunk_count} chunks ({outcome.added} new, {outcome.removed} removed)")
        rt.knowledge_changed(tenant_id)
    finally:
        rt.close()
    return 1 if failures else 0


def _exit_zero(signum: int, frame: FrameType | None) -> None:
    sys.exit(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ai_worker")
    sub = parser.add_subparsers(dest="command", required=True)
    worker = sub.add_parser("worker", help="take jobs from Redis until stopped")
    worker.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    ingest = sub.add_parser("ingest", help="ingest files or folders into the knowledge base")
    ingest.add_argument("paths", nargs="+")
    ingest.add_argument("--tenant", default=None, help="tenant id (default: the default tenant)")
    args = parser.parse_args(argv)
    from ai_worker.settings import WorkerSettings

    settings = WorkerSettings()
    configure_logging(json_lines=settings.log_json, log_content=settings.log_content)
    if args.command == "worker":
        # Until RQ installs its handlers (after the models are loaded, seconds), a SIGTERM exits 0:
        # nothing is in flight yet, and as a container's PID 1 a default-handled SIGTERM would be
        # ignored, leaving the worker to be SIGKILLed at the end of its stop grace period.
        signal.signal(signal.SIGTERM, _exit_zero)
        log.info("worker starting: loading its models")
        from ai_worker.worker import run_worker

        run_worker(settings, burst=args.burst)
        return 0
    from parley_contract.names import DEFAULT_TENANT_ID

    return ingest_command(args.paths, tenant_id=args.tenant or DEFAULT_TENANT_ID)


if __name__ == "__main__":
    sys.exit(main())
