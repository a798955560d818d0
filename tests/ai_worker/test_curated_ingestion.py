"""Through the real worker (partner stack, scripted LLM): an uploaded FAQ's pairs arrive in the
gateway as the tenant's curated answers, and go when the document is deleted."""

from __future__ import annotations

from typing import Any

from ai_worker.curated.extract import extract_pairs
from parley_testkit.servers import wait_until
from parley_testkit.stack import SAMPLE_KB, Stack
from tests.gateway.admin_support import new_tenant


def test_the_sample_faqs_pairs_arrive_and_leave_with_the_document(partner_stack: Stack) -> None:
    tenant = new_tenant(partner_stack)
    knowledge = partner_stack.client_with_key(partner_stack.new_key(tenant.id, "knowledge:write", "knowledge:read"))
    faq = SAMPLE_KB / "faq.md"
    policy = SAMPLE_KB / "delivery-and-returns.md"
    uploaded = {}
    for path in (faq, policy):
        response = knowledge.post("/api/v1/knowledge/documents", files={"file": (path.name, path.read_bytes())})
        assert response.status_code == 202, response.text
        uploaded[path.name] = response.json()["document_id"]
    status: dict[str, Any] = {}

    def ready() -> bool:
        for document_id in uploaded.values():
            status[document_id] = knowledge.get(f"/api/v1/knowledge/documents/{document_id}").json()["status"]
        return all(s == "ready" for s in status.values())

    wait_until(ready, timeout=300, what="the FAQ and the policy ingested")
    stored = tenant.admin.get(tenant.url("/curated-answers")).json()
    expected = extract_pairs(name=faq.name, data=faq.read_bytes())
    assert len(stored) == len(expected) == 26
    assert {(a["question"], a["answer"], a["source"]) for a in stored} == {
        (p.question, p.answer, uploaded["faq.md"]) for p in expected
    }
    # Deleting the FAQ removes its pairs (the policy had none).
    assert knowledge.delete(f"/api/v1/knowledge/documents/{uploaded['faq.md']}").status_code == 202
    wait_until(
        lambda: tenant.admin.get(tenant.url("/curated-answers")).json() == [],
        timeout=120,
        what="the FAQ's curated answers removed",
    )
    assert knowledge.get(f"/api/v1/knowledge/documents/{uploaded['faq.md']}").status_code == 404
