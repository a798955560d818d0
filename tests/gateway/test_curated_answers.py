"""Curated answers over HTTP: the admin API (own tenant only) and the worker's internal routes,
on SQLite and on PostgreSQL; the worker's cache reading them through its real gateway client."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from ai_worker import runtime
from ai_worker.answers.base import Question
from ai_worker.curated.ingest import fetch_entries, remove_document_pairs, sync_document_pairs
from ai_worker.curated.responder import CuratedCache, curated_responder, thresholds_from
from ai_worker.gateway_client import GatewayClient
from ai_worker.settings import WorkerSettings
from parley_contract.names import KNOWLEDGE_VERSION_PREFIX
from parley_contract.schemas import TenantSettings
from parley_testkit.servers import ROOT
from parley_testkit.stack import SAMPLE_KB, TOKENS, Stack
from tests.gateway.admin_support import TenantKeys, new_tenant, post_message
from tests.support import redis_dbs as dbs
from tests.support.gateways import gateway_only

CURATED = "/curated-answers"


@pytest.fixture(scope="module")
def curated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = Path(tmp_path_factory.mktemp("curated-sqlite"))
    with gateway_only(name="curated-sqlite", workdir=workdir, database="sqlite", redis_db=dbs.CURATED_SQLITE) as stack:
        yield stack


@pytest.fixture(scope="module")
def curated_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = Path(tmp_path_factory.mktemp("curated-postgres"))
    with gateway_only(
        name="curated-postgres", workdir=workdir, database="postgres", redis_db=dbs.CURATED_POSTGRES
    ) as stack:
        yield stack


@pytest.fixture(params=["sqlite", "postgres"])
def stack(request: pytest.FixtureRequest) -> Stack:
    """This module's gateway on each database (named apart from tests/conftest.py's session stacks,
    which hold a worker; the Redis databases are ones only module-scoped stacks use)."""
    found: Stack = request.getfixturevalue(f"curated_{request.param}")
    return found


def _document(stack: Stack, tenant: TenantKeys, path: Path) -> str:
    """A document of the tenant (no worker here: it stays queued)."""
    client = stack.client_with_key(stack.new_key(tenant.id, "knowledge:write"))
    response = client.post("/api/v1/knowledge/documents", files={"file": (path.name, path.read_bytes())})
    assert response.status_code == 202, response.text
    document_id: str = response.json()["document_id"]
    return document_id


def _version(stack: Stack, tenant_id: str) -> int:
    connection = redis.Redis.from_url(stack.settings.redis_url)
    try:
        return int(connection.get(KNOWLEDGE_VERSION_PREFIX + tenant_id) or 0)
    finally:
        connection.close()


def _worker_gateway(stack: Stack) -> GatewayClient:
    return GatewayClient(base_url=stack.url, token=TOKENS["worker"])


def test_staff_add_list_edit_and_delete_their_curated_answers(stack: Stack) -> None:
    tenant = new_tenant(stack)
    before = _version(stack, tenant.id)
    created = tenant.admin.post(tenant.url(CURATED), json={"question": " Do you open on Eid? ", "answer": "No."})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["question"] == "Do you open on Eid?" and body["source"] == "staff" and body["tenant_id"] == tenant.id
    assert body["updated_by"] and _version(stack, tenant.id) > before
    listed = tenant.admin.get(tenant.url(CURATED)).json()
    assert [a["id"] for a in listed] == [body["id"]]
    edited = tenant.admin.patch(tenant.url(f"{CURATED}/{body['id']}"), json={"answer": "Closed on Eid day one."})
    assert edited.status_code == 200 and edited.json()["answer"] == "Closed on Eid day one."
    assert edited.json()["question"] == "Do you open on Eid?"
    assert tenant.admin.get(tenant.url(f"{CURATED}/{body['id']}")).json()["answer"] == "Closed on Eid day one."
    assert tenant.admin.delete(tenant.url(f"{CURATED}/{body['id']}")).status_code == 204
    assert tenant.admin.get(tenant.url(f"{CURATED}/{body['id']}")).status_code == 404
    assert tenant.admin.get(tenant.url(CURATED)).json() == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"question": "Hours?"},
        {"answer": "No question and no task."},
        {"question": "   ", "answer": "blank question"},
        {"question": "Hours?", "answer": "  "},
        {"question": "x" * 1001, "answer": "too long"},
        {"question": "Hours?", "answer": 5},
    ],
)
def test_bad_bodies_are_422(stack: Stack, body: dict[str, Any]) -> None:
    tenant = new_tenant(stack)
    assert tenant.admin.post(tenant.url(CURATED), json=body).status_code == 422
    assert (
        tenant.admin.post(
            tenant.url(CURATED), content=b"{not json", headers={"Content-Type": "application/json"}
        ).status_code
        == 422
    )


def test_correct_this_answer_stores_the_task_question_with_staffs_text(stack: Stack) -> None:
    tenant = new_tenant(stack)
    task_id = post_message(tenant, "Can I return my sofa after 20 days?")["task_id"]
    corrected = tenant.admin.post(
        tenant.url(CURATED), json={"task_id": task_id, "answer": "Returns are accepted within 14 days of delivery."}
    )
    assert corrected.status_code == 201, corrected.text
    body = corrected.json()
    assert body["question"] == "Can I return my sofa after 20 days?" and body["task_id"] == task_id
    assert body["answer"] == "Returns are accepted within 14 days of delivery." and body["source"] == "staff"
    # Another tenant cannot make a curated answer out of this tenant's task (nor learn its text).
    other = new_tenant(stack)
    stolen = other.admin.post(other.url(CURATED), json={"task_id": task_id, "answer": "x"})
    assert stolen.status_code == 404 and "20 days" not in stolen.text
    assert other.admin.post(other.url(CURATED), json={"task_id": "nope", "answer": "x"}).status_code == 404


def test_an_admin_manages_its_own_tenant_only(stack: Stack) -> None:
    owner, other = new_tenant(stack), new_tenant(stack)
    made = owner.admin.post(owner.url(CURATED), json={"question": "Secret?", "answer": "Owner's text."}).json()
    # Another tenant's admin key: 403 on the owner's path, whatever the verb.
    for method, path, body in [
        ("GET", CURATED, None),
        ("POST", CURATED, {"question": "q?", "answer": "a"}),
        ("GET", f"{CURATED}/{made['id']}", None),
        ("PATCH", f"{CURATED}/{made['id']}", {"answer": "hijacked"}),
        ("DELETE", f"{CURATED}/{made['id']}", None),
    ]:
        response = other.admin.request(method, owner.url(path), json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert "Owner's text" not in response.text
    # …and the owner's answer id on its own path is unknown (404), not someone else's to change.
    assert other.admin.get(other.url(f"{CURATED}/{made['id']}")).status_code == 404
    assert other.admin.patch(other.url(f"{CURATED}/{made['id']}"), json={"answer": "x"}).status_code == 404
    assert other.admin.delete(other.url(f"{CURATED}/{made['id']}")).status_code == 404
    # Partner keys (no admin scope) are refused; the deployment's operator may manage any tenant.
    assert owner.partner.get(owner.url(CURATED)).status_code == 403
    listed = stack.client("admin").get(owner.url(CURATED))
    assert listed.status_code == 200 and [a["answer"] for a in listed.json()] == ["Owner's text."]


def test_the_internal_routes_take_the_worker_token_only(stack: Stack) -> None:
    tenant = new_tenant(stack)
    document_id = _document(stack, tenant, SAMPLE_KB / "faq.md")
    pairs = {"pairs": [{"question": "Q?", "answer": "A."}]}
    routes = [
        ("PUT", f"/internal/v1/documents/{document_id}/curated-answers", pairs),
        ("DELETE", f"/internal/v1/documents/{document_id}/curated-answers", None),
        ("GET", f"/internal/v1/tenants/{tenant.id}/curated-answers", None),
    ]
    others = [stack.client("admin"), stack.client("service"), tenant.admin, tenant.partner, stack.client(None)]
    for client in others:
        for method, path, body in routes:
            assert client.request(method, path, json=body).status_code in (401, 403), (method, path)
    worker = stack.client("worker")
    assert worker.put("/internal/v1/documents/unknown/curated-answers", json=pairs).status_code == 404
    assert worker.put(routes[0][1], json={"pairs": [{"question": "", "answer": "A."}]}).status_code == 422
    assert worker.put(routes[0][1], json={"pairs": "nope"}).status_code == 422


def test_a_documents_pairs_are_replaced_on_reingestion_and_removed_with_it(stack: Stack) -> None:
    tenant = new_tenant(stack)
    staff = tenant.admin.post(
        tenant.url(CURATED), json={"question": "Do you have a mobile app?", "answer": "Staff: not yet, soon."}
    ).json()
    document_id = _document(stack, tenant, SAMPLE_KB / "faq.md")
    gateway = _worker_gateway(stack)
    try:
        before = _version(stack, tenant.id)
        count = sync_document_pairs(
            gateway, document_id=document_id, name="faq.md", data=(SAMPLE_KB / "faq.md").read_bytes()
        )
        assert count == 26 and _version(stack, tenant.id) > before
        from_document = tenant.admin.get(tenant.url(CURATED), params={"source": document_id}).json()
        # The question staff already answered is not stored again from the document: staff win.
        assert len(from_document) == 25
        assert "Do you have a mobile app?" not in {a["question"] for a in from_document}
        assert all(a["tenant_id"] == tenant.id and a["updated_by"] == "ingestion" for a in from_document)
        # Ingested again with other content: the document's pairs are replaced, staff's stay.
        sync_document_pairs(gateway, document_id=document_id, name="faq.md", data=b"## Is it new?\nYes, brand new.\n")
        listed = tenant.admin.get(tenant.url(CURATED)).json()
        assert sorted((a["question"], a["source"]) for a in listed) == [
            ("Do you have a mobile app?", "staff"),
            ("Is it new?", document_id),
        ]
        # Another tenant sees none of them.
        other = new_tenant(stack)
        assert other.admin.get(other.url(CURATED)).json() == []
        # The document is deleted: its pairs go, staff's stay.
        remove_document_pairs(gateway, document_id=document_id)
        assert [a["id"] for a in tenant.admin.get(tenant.url(CURATED)).json()] == [staff["id"]]
    finally:
        gateway.close()


def test_staff_editing_a_document_pair_makes_it_theirs(stack: Stack) -> None:
    tenant = new_tenant(stack)
    document_id = _document(stack, tenant, SAMPLE_KB / "faq.md")
    gateway = _worker_gateway(stack)
    try:
        data = (SAMPLE_KB / "faq.md").read_bytes()
        sync_document_pairs(gateway, document_id=document_id, name="faq.md", data=data)
        pair = next(
            a for a in tenant.admin.get(tenant.url(CURATED)).json() if a["question"] == "Do you sell gift cards?"
        )
        edited = tenant.admin.patch(tenant.url(f"{CURATED}/{pair['id']}"), json={"answer": "Yes, AED 100 to 5,000."})
        assert edited.json()["source"] == "staff"
        sync_document_pairs(gateway, document_id=document_id, name="faq.md", data=data)
        gift = [a for a in tenant.admin.get(tenant.url(CURATED)).json() if a["question"] == "Do you sell gift cards?"]
        assert [(a["answer"], a["source"]) for a in gift] == [("Yes, AED 100 to 5,000.", "staff")]
    finally:
        gateway.close()


def test_the_workers_cache_reads_the_tenants_answers_again_after_a_change(stack: Stack) -> None:
    tenant = new_tenant(stack)
    gateway = _worker_gateway(stack)
    connection = redis.Redis.from_url(stack.settings.redis_url)
    fetched: list[str] = []

    def fetch(tenant_id: str) -> list[Any]:
        fetched.append(tenant_id)
        return fetch_entries(gateway, tenant_id)

    cache = CuratedCache(
        fetch=fetch,
        version_of=lambda tenant_id: int(connection.get(KNOWLEDGE_VERSION_PREFIX + tenant_id) or 0),
        embed=lambda texts: [[1.0] for _ in texts],
    )
    try:
        assert cache.index(tenant.id).entries == []
        assert cache.index(tenant.id).entries == [] and len(fetched) == 1
        tenant.admin.post(tenant.url(CURATED), json={"question": "Hours?", "answer": "10 to 9."})
        entries = cache.index(tenant.id).entries
        assert [(e.question, e.answer, e.source) for e in entries] == [("Hours?", "10 to 9.", "staff")]
        assert len(fetched) == 2
    finally:
        gateway.close()
        connection.close()


def test_unknown_tenant_is_404_for_the_operator(stack: Stack) -> None:
    response = stack.client("admin").get("/api/v1/admin/tenants/no-such-tenant/curated-answers")
    assert response.status_code == 404


def test_answer_ids_are_bounded(stack: Stack) -> None:
    tenant = new_tenant(stack)
    assert tenant.admin.get(tenant.url(f"{CURATED}/{'x' * 33}")).status_code == 422


def test_a_loaded_worker_answers_with_staffs_curated_answer(curated_sqlite: Stack, tmp_path: Path) -> None:
    """The responder the lead wires in, built from a worker runtime on this gateway."""
    settings = WorkerSettings(
        _env_file=None,
        parley_env="test",
        redis_url=curated_sqlite.settings.redis_url,
        gateway_url=curated_sqlite.url,
        worker_token=TOKENS["worker"],
        chroma_path=str(tmp_path / "chroma"),
        curated_min_cosine=0.7,
    )
    assert thresholds_from(settings).close == 0.7
    rt = runtime.load(settings, with_llm=False)
    try:
        responder = curated_responder(rt)
        tenant = new_tenant(curated_sqlite)
        question = Question(tenant_id=tenant.id, text="Are you open on Eid?", language="en", settings=TenantSettings())
        assert responder.respond(question) is None
        made = tenant.admin.post(
            tenant.url(CURATED), json={"question": "Do you open on Eid?", "answer": "Closed on Eid day one."}
        ).json()
        answer = responder.respond(question)
        assert answer is not None and answer.path == "curated" and answer.text == "Closed on Eid day one."
        assert answer.sources[0].chunk_id == f"curated:{made['id']}"
        # Deleted by staff: the next question no longer gets it.
        tenant.admin.delete(tenant.url(f"{CURATED}/{made['id']}"))
        assert responder.respond(question) is None
    finally:
        rt.close()


def test_the_cli_sends_the_faqs_pairs_too(curated_sqlite: Stack, tmp_path: Path) -> None:
    """`make run` loads sample_kb/ with `python -m ai_worker ingest`: its FAQ's pairs arrive as well."""
    tenant = new_tenant(curated_sqlite)
    result = subprocess.run(
        [sys.executable, "-m", "ai_worker", "ingest", str(SAMPLE_KB / "faq.md"), "--tenant", tenant.id],
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "HF_HUB_OFFLINE": "1",
            **curated_sqlite.cli_env(),
            "CHROMA_PATH": str(tmp_path / "chroma"),
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    stored = tenant.admin.get(tenant.url(CURATED)).json()
    sources = {a["source"] for a in stored}
    assert len(stored) == 26 and len(sources) == 1 and sources != {"staff"}
