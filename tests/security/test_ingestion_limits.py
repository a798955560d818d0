"""Issue #15, findings 5 and 9: a hostile document must not stall ingestion or the answers, and a
search while the worker is busy is a 503 with Retry-After, not a 500.

A real stack (gateway, Redis database 0 of TEST_REDIS_URL, one worker process) with a scripted
hosted LLM, so the llama.cpp model is not loaded.
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, StreamObject

from ai_worker.ingestion.isolated import parse_isolated
from ai_worker.ingestion.parsers import DocumentOverLimit, ParseLimits, UnreadableDocument
from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.servers import wait_until
from parley_testkit.stack import SAMPLE_KB, Stack, running_stack
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url

#: The stack's parse time limit: far below what the hostile PDF needs (minutes), far above what an
#: answer needs (about a second with the scripted LLM; the test gives it PARSE_TIMEOUT_SECONDS - 5).
PARSE_TIMEOUT_SECONDS = 12
MAX_PAGES = 5
SEARCH_WAIT_SECONDS = 2


def hostile_pdf(*, operator_bytes: int, pages: int = 1) -> bytes:
    """A small PDF whose page streams each inflate to `operator_bytes` of text operators (finding 5:
    14.6 kB inflating to 4.8 MB held the worker 55 s). Each stream stays under pypdf's own budget of
    tokens per stream, so only our time limit stops the parse."""
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    unit = b"BT /F1 1 Tf 1 0 0 1 0 0 Tm (a) Tj ET\n"
    for _ in range(pages):
        page = writer.add_blank_page(width=200, height=200)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        stream = StreamObject()
        stream.set_data(unit * (operator_bytes // len(unit)))
        page.replace_contents(stream.flate_encode(level=9))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_pages(count: int) -> bytes:
    writer = PdfWriter()
    for _ in range(count):
        writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_parser_refuses_a_pdf_over_the_page_limit_before_reading_it() -> None:
    with pytest.raises(DocumentOverLimit, match=r"has 6 pages, over the limit of 5 \(INGEST_MAX_PAGES\)"):
        parse_isolated(name="long.pdf", data=pdf_with_pages(6), limits=ParseLimits(max_pages=5))


@pytest.mark.parametrize("name", ["notes.txt", "catalog.csv", "page.html"])
def test_parser_refuses_text_over_the_character_limit(name: str) -> None:
    data = b"column\n" + b"some words here\n" * 100 if name.endswith(".csv") else b"some words here " * 100
    with pytest.raises(DocumentOverLimit, match=r"limit of 1000 \(INGEST_MAX_CHARS\)"):
        parse_isolated(name=name, data=data, limits=ParseLimits(max_chars=1000))


def test_parser_is_killed_at_the_time_limit() -> None:
    started = time.monotonic()
    with pytest.raises(DocumentOverLimit, match=r"longer than the time limit of 2 s"):
        parse_isolated(
            name="hostile.pdf", data=hostile_pdf(operator_bytes=5_000_000), limits=ParseLimits(timeout_seconds=2)
        )
    # Unbounded, this file takes tens of seconds (finding 5: 55 s).
    assert time.monotonic() - started < 10


def test_parser_is_stopped_at_the_memory_limit() -> None:
    """Half a million tags take a gigabyte in BeautifulSoup: the child's address-space cap stops it."""
    html = b"<div>" + b"<p>a</p>" * 500_000 + b"</div>"
    with pytest.raises(DocumentOverLimit, match=r"more memory than the limit of 128 MB"):
        parse_isolated(name="hostile.html", data=html, limits=ParseLimits(max_memory_mb=128, timeout_seconds=120))


def test_parser_within_the_limits_reads_the_document() -> None:
    parsed = parse_isolated(
        name="warranty-and-care.pdf", data=(SAMPLE_KB / "warranty-and-care.pdf").read_bytes(), limits=ParseLimits()
    )
    assert parsed.kind == "text" and "DO-208451" in parsed.parts[0]
    with pytest.raises(UnreadableDocument, match="not a readable PDF") as broken:
        parse_isolated(name="broken.pdf", data=b"%PDF-1.4 this is not really a pdf", limits=ParseLimits())
    assert not isinstance(broken.value, DocumentOverLimit)


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeLLM]:
    fake = FakeLLM(default_answer="We deliver to all seven emirates.").start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, fake_llm: FakeLLM) -> Iterator[Stack]:
    with running_stack(
        name="ingest-limits",
        workdir=tmp_path_factory.mktemp("ingest-limits"),
        redis_url=redis_url(dbs.INGESTION_LIMITS),
        worker_env={
            **fake_llm.worker_env,
            "INGEST_PARSE_TIMEOUT_SECONDS": str(PARSE_TIMEOUT_SECONDS),
            "INGEST_MAX_PAGES": str(MAX_PAGES),
        },
        gateway_overrides={"search_timeout_seconds": SEARCH_WAIT_SECONDS},
    ) as stack:
        yield stack


def upload(stack: Stack, name: str, data: bytes) -> str:
    response = stack.client("admin").post("/api/v1/knowledge/documents", files={"file": (name, data)})
    assert response.status_code == 202, response.text
    document_id: str = response.json()["document_id"]
    return document_id


def post_message(stack: Stack, text: str) -> str:
    response = stack.client().post(
        "/api/v1/messages",
        json={"channel": "web", "chat_id": uuid.uuid4().hex[:8], "user": {"id": "u1"}, "text": text},
    )
    assert response.status_code == 202, response.text
    task_id: str = response.json()["task_id"]
    return task_id


def test_hostile_pdf_fails_at_the_time_limit_while_answers_go_on(stack: Stack) -> None:
    started = time.monotonic()
    # About 60 kB; unbounded, its text takes minutes to extract.
    document_id = upload(stack, "hostile.pdf", hostile_pdf(operator_bytes=5_000_000, pages=4))
    stack.wait_document(document_id, statuses=("ingesting",))

    # The worker is parsing the hostile file now; a customer's question must not wait for it.
    task = stack.wait_task(post_message(stack, "Do you deliver to Abu Dhabi?"), wait=PARSE_TIMEOUT_SECONDS - 5)
    assert task["status"] == "done", task
    still = stack.client("admin").get(f"/api/v1/knowledge/documents/{document_id}").json()
    assert still["status"] == "ingesting", "the answer came only after the ingestion ended"

    document = stack.wait_document(document_id)
    assert document["status"] == "failed"
    assert f"{PARSE_TIMEOUT_SECONDS} s" in document["error"] and "time limit" in document["error"], document
    # Killed at the limit, not parsed to the end (minutes).
    assert time.monotonic() - started < PARSE_TIMEOUT_SECONDS + 40

    assert stack.worker is not None and stack.worker.alive()
    assert stack.wait_task(post_message(stack, "And to Sharjah?"), wait=30)["status"] == "done"


def test_pdf_over_the_page_limit_fails_with_a_clear_error(stack: Stack) -> None:
    document = stack.wait_document(upload(stack, "long.pdf", pdf_with_pages(MAX_PAGES + 1)))
    assert document["status"] == "failed"
    assert f"{MAX_PAGES + 1} pages" in document["error"] and f"limit of {MAX_PAGES}" in document["error"], document


def test_search_while_the_worker_is_busy_is_503_with_retry_after(stack: Stack, fake_llm: FakeLLM) -> None:
    fake_llm.add(Rule(when="hold the worker", answer="Thanks for waiting.", delay_seconds=SEARCH_WAIT_SECONDS + 6))
    held = post_message(stack, "please hold the worker")
    wait_until(
        lambda: any("hold the worker" in str(r["messages"]) for r in fake_llm.requests),
        timeout=60,
        what="the worker busy with the held answer",
    )

    response = stack.client("admin").post("/api/v1/knowledge/search", json={"query": "delivery"})

    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert "busy" in response.json()["detail"]
    # The search nobody waits for any more is withdrawn, not run once the worker is free.
    connection = redis.Redis.from_url(stack.settings.redis_url)
    try:
        assert connection.llen("rq:queue:parley-high") == 0
    finally:
        connection.close()
    assert stack.wait_task(held, wait=60)["status"] == "done"
    assert stack.client("admin").post("/api/v1/knowledge/search", json={"query": "delivery"}).status_code == 200
