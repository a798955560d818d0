"""Parsing an uploaded file in a child process that is killed at the time limit.

A small file can cost minutes of CPU and gigabytes of memory to parse (a 15 kB PDF whose page
stream inflates to megabytes of operators; HTML of a million tags). The worker process holds the
models and the embedded vector store, so the parse runs in `python -m ai_worker.ingestion.isolated`:
the file in on stdin, its text out as JSON on stdout, under an address-space cap the child sets on
itself, killed when the time limit passes. A new interpreter, not a fork: the worker has torch and
llama.cpp threads running, and a fork of a threaded process can deadlock.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ai_worker.ingestion.parsers import DocumentOverLimit, ParsedDocument, ParseLimits, UnreadableDocument, parse
from parley_contract.products import ProductRow

MODULE = "ai_worker.ingestion.isolated"
#: Where `ai_worker` is imported from, handed to the child: the worker may run from any directory.
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


def parse_isolated(*, name: str, data: bytes, limits: ParseLimits) -> ParsedDocument:
    """`parse` in a child process, within `limits`; a document over one raises DocumentOverLimit."""
    header = json.dumps({"name": name, "limits": asdict(limits)}).encode() + b"\n"
    try:
        # subprocess.run kills the child when the timeout passes, then reaps it.
        done = subprocess.run(
            [sys.executable, "-m", MODULE],
            input=header + data,
            capture_output=True,
            timeout=limits.timeout_seconds,
            env=_child_env(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DocumentOverLimit(
            f"parsing the document took longer than the time limit of {limits.timeout_seconds:g} s "
            "(INGEST_PARSE_TIMEOUT_SECONDS) and was stopped; split it into smaller files"
        ) from None
    return _outcome(done)


def _child_env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": PACKAGE_ROOT + (os.pathsep + path if path else "")}


def _outcome(done: subprocess.CompletedProcess[bytes]) -> ParsedDocument:
    # The child's stderr is not logged: a parser's warnings may quote the document.
    try:
        reply: Any = json.loads(done.stdout)
    except ValueError:
        reply = None
    if not isinstance(reply, dict):
        # Killed by the kernel, or a crash inside a C extension: nothing readable came back.
        raise UnreadableDocument(f"the parser stopped without an answer (exit status {done.returncode})")
    if "error" in reply:
        raise (DocumentOverLimit if reply["over_limit"] else UnreadableDocument)(str(reply["error"]))
    products = reply.get("products")
    return ParsedDocument(
        kind=str(reply["kind"]),
        parts=[str(part) for part in reply["parts"]],
        products=None if products is None else [ProductRow.model_validate(p) for p in products],
    )


def _cap_memory(megabytes: int) -> None:
    if megabytes > 0:
        cap = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def _reply(name: str, data: bytes, limits: ParseLimits) -> dict[str, Any]:
    try:
        parsed = parse(name, data, limits=limits)
    except MemoryError:
        return _over_memory(limits)
    except UnreadableDocument as exc:
        # A parser that wraps every exception (pypdf's) wraps the MemoryError too.
        if isinstance(exc.__cause__, MemoryError):
            return _over_memory(limits)
        return {"error": str(exc), "over_limit": isinstance(exc, DocumentOverLimit)}
    products = None if parsed.products is None else [p.model_dump(exclude_none=True) for p in parsed.products]
    return {"kind": parsed.kind, "parts": parsed.parts, "products": products}


def _over_memory(limits: ParseLimits) -> dict[str, Any]:
    gc.collect()  # the parser's half-built tree is cyclic garbage: room for the reply
    return {
        "error": f"parsing the document needed more memory than the limit of {limits.max_memory_mb} MB "
        "(INGEST_PARSE_MAX_MEMORY_MB); split it into smaller files",
        "over_limit": True,
    }


def main() -> None:
    request = json.loads(sys.stdin.buffer.readline())
    data = sys.stdin.buffer.read()
    limits = ParseLimits(**request["limits"])
    _cap_memory(limits.max_memory_mb)
    try:
        answer = json.dumps(_reply(request["name"], data, limits))
    except MemoryError:
        # The parse fitted, or its MemoryError was caught, but the tree it left (cyclic garbage) or
        # the reply itself did not: free what can be freed, then say so instead of dying mute.
        answer = None
    if answer is None:
        gc.collect()
        answer = json.dumps(_over_memory(limits))
    sys.stdout.write(answer)


if __name__ == "__main__":
    main()
