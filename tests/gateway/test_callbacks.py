"""Signed callbacks: a finished task is POSTed to the partner's receiver, signed, retried with
backoff, given up on after the bound, listed and redelivered through the admin API."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col

from gateway.db import make_engine, make_sessionmaker
from gateway.migrate import upgrade
from gateway.models import CallbackDelivery, Tenant, utcnow
from gateway.schemas import DeliveryStatus
from gateway.services.callbacks import claim_due, record_attempt
from gateway.settings import GatewaySettings
from gateway.signing import sign, verify
from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.servers import ROOT, wait_until
from parley_testkit.stack import Stack, gateway_settings
from tests.support import redis_dbs as dbs
from tests.support.callback_receiver import CallbackReceiver, Received
from tests.support.databases import fresh_postgres_database, redis_url


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    started = CallbackReceiver().start()
    yield started
    started.stop()


def readme_verify() -> Callable[..., bool]:
    """The verification function docs/API.md shows partners, run as they would copy it."""
    section = (ROOT / "docs" / "API.md").read_text().split("### Callbacks", 1)[1].split("\n### ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, "the Callbacks section of docs/API.md has no Python snippet"
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)
    found: Callable[..., bool] = namespace["verify_parley"]
    return found


class Partner:
    """A tenant with a key (messages:write, tasks:read) and an admin key, on the partner stack."""

    def __init__(self, stack: Stack, **key_fields: Any) -> None:
        tenant = stack.new_tenant()
        self.tenant_id: str = tenant["id"]
        self.secret: str = tenant["callback_secret"]
        self.client = stack.client_with_key(stack.new_key(self.tenant_id, "messages:write", "tasks:read", **key_fields))
        self.admin = stack.client_with_key(stack.new_key(self.tenant_id, "admin"))

    def post(self, text: str, *, callback_url: str | None = None) -> str:
        body: dict[str, Any] = {"channel": "api", "chat_id": uuid.uuid4().hex[:8], "user": {"id": "u1"}, "text": text}
        if callback_url is not None:
            body["callback_url"] = callback_url
        response = self.client.post("/api/v1/messages", json=body)
        assert response.status_code == 202, response.text
        task_id: str = response.json()["task_id"]
        return task_id

    def deliveries(self, **params: str) -> list[dict[str, Any]]:
        response = self.admin.get(f"/api/v1/admin/tenants/{self.tenant_id}/callbacks", params=params)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found

    def wait_delivery(self, task_id: str, status: str, *, timeout: float = 60) -> dict[str, Any]:
        found: list[dict[str, Any]] = []

        def settled() -> bool:
            nonlocal found
            found = self.deliveries(task_id=task_id)
            return len(found) == 1 and found[0]["status"] == status

        wait_until(settled, timeout=timeout, what=f"delivery of {task_id} {status} (last seen {found})")
        return found[0]


def assert_signed(request: Received, secret: str) -> None:
    headers = {k.lower(): v for k, v in request.headers.items()}
    timestamp, signature = headers["x-parley-timestamp"], headers["x-parley-signature"]
    assert signature.startswith("v1=")
    assert verify(secret=secret, body=request.body, timestamp=timestamp, signature=signature)
    assert readme_verify()(secret, request.body, timestamp, signature)


# ---- sign / verify ---------------------------------------------------------------------------


def test_sign_is_hmac_sha256_over_timestamp_and_body() -> None:
    import hashlib
    import hmac

    body = b'{"id":"d1"}'
    expected = hmac.new(b"whsec_x", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign(secret="whsec_x", timestamp=1700000000, body=body) == f"v1={expected}"


def test_verify_accepts_its_own_signature_and_refuses_every_change() -> None:
    body = b'{"id":"d1","type":"task.completed"}'
    signature = sign(secret="whsec_right", timestamp=1700000000, body=body)
    now = 1700000000 + 10
    assert verify(secret="whsec_right", body=body, timestamp="1700000000", signature=signature, now=now)
    assert not verify(secret="whsec_wrong", body=body, timestamp="1700000000", signature=signature, now=now)
    assert not verify(secret="whsec_right", body=body + b" ", timestamp="1700000000", signature=signature, now=now)
    assert not verify(secret="whsec_right", body=body, timestamp="1700000001", signature=signature, now=now)
    assert not verify(secret="whsec_right", body=body, timestamp="not a number", signature=signature, now=now)
    assert not verify(secret="whsec_right", body=body, timestamp="1700000000", signature="v1=00", now=now)
    # Older than the tolerance: a replay is refused even with the right signature.
    late = 1700000000 + 301
    assert not verify(secret="whsec_right", body=body, timestamp="1700000000", signature=signature, now=late)
    assert verify(
        secret="whsec_right", body=body, timestamp="1700000000", signature=signature, now=late, tolerance_seconds=600
    )
    # A header listing several signatures (e.g. during a secret rotation) is accepted if one matches.
    assert verify(secret="whsec_right", body=body, timestamp="1700000000", signature=f"v1=abc, {signature}", now=now)


# ---- the whole path on the partner stack (PostgreSQL, Redis, a worker) -------------------------


def test_a_finished_task_is_posted_signed_to_the_callback_url(partner_stack: Stack, receiver: CallbackReceiver) -> None:
    partner = Partner(partner_stack)
    task_id = partner.post("Do you deliver to Sharjah?", callback_url=receiver.url)

    [request] = receiver.wait_for(1)
    headers = {k.lower(): v for k, v in request.headers.items()}
    event = json.loads(request.body)
    assert headers["content-type"] == "application/json"
    assert headers["x-parley-event"] == "task.completed" == event["type"]
    assert headers["x-parley-delivery-id"] == event["id"]
    assert_signed(request, partner.secret)
    # The event's data is the task as the tasks endpoint shows it.
    task = partner.client.get(f"/api/v1/tasks/{task_id}").json()
    assert event["data"] == task
    assert task["status"] == "done" and task["answer"] == "We deliver to all seven emirates."

    # Another tenant's secret does not verify it.
    other = partner_stack.new_tenant()
    timestamp, signature = headers["x-parley-timestamp"], headers["x-parley-signature"]
    assert not verify(secret=other["callback_secret"], body=request.body, timestamp=timestamp, signature=signature)
    assert not readme_verify()(other["callback_secret"], request.body, timestamp, signature)

    delivery = partner.wait_delivery(task_id, "delivered")
    assert delivery["id"] == event["id"]
    assert delivery["attempts"] == 1 and delivery["last_status_code"] == 200
    detail = partner.admin.get(f"/api/v1/admin/tenants/{partner.tenant_id}/callbacks/{delivery['id']}").json()
    assert detail["payload"] == event


def test_a_failed_task_is_posted_as_task_failed(
    partner_stack: Stack, partner_llm: FakeLLM, receiver: CallbackReceiver
) -> None:
    marker = f"unanswerable-{uuid.uuid4().hex[:8]}"
    partner_llm.add(Rule(when=marker, status=400))
    partner = Partner(partner_stack)
    task_id = partner.post(f"Question {marker}", callback_url=receiver.url)

    [request] = receiver.wait_for(1, timeout=120)
    event = json.loads(request.body)
    assert event["type"] == "task.failed"
    assert event["data"]["task_id"] == task_id and event["data"]["status"] == "failed"
    assert event["data"]["error"]
    assert_signed(request, partner.secret)


def test_the_receiver_failing_twice_gets_it_on_the_third_attempt(
    partner_stack: Stack, receiver: CallbackReceiver
) -> None:
    receiver.statuses = [500, 500]
    partner = Partner(partner_stack)
    task_id = partner.post("Opening hours?", callback_url=receiver.url)

    delivery = partner.wait_delivery(task_id, "delivered")
    requests = receiver.wait_for(3)
    assert [r.status for r in requests] == [500, 500, 200]
    assert delivery["attempts"] == 3 and delivery["last_status_code"] == 200 and delivery["last_error"] is None
    # Every retry is the same event (same delivery id and body), signed afresh.
    assert len({r.body for r in requests}) == 1
    assert {r.headers["X-Parley-Delivery-Id"] for r in requests} == {delivery["id"]}
    for request in requests:
        assert_signed(request, partner.secret)


def test_a_receiver_that_always_fails_is_given_up_on_listed_and_redelivered(
    partner_stack: Stack, receiver: CallbackReceiver
) -> None:
    receiver.default_status = 503
    partner = Partner(partner_stack)
    task_id = partner.post("Return policy?", callback_url=receiver.url)
    bound = partner_stack.settings.callback_max_attempts

    failed = partner.wait_delivery(task_id, "failed", timeout=120)
    assert failed["attempts"] == bound
    assert failed["last_status_code"] == 503 and failed["last_error"] == "HTTP 503 Service Unavailable"
    assert len(receiver.received) == bound
    assert [d["id"] for d in partner.deliveries(status="failed")] == [failed["id"]]
    assert partner.deliveries(status="delivered") == []

    receiver.default_status = 200
    redeliver = f"/api/v1/admin/tenants/{partner.tenant_id}/callbacks/{failed['id']}/redeliver"
    response = partner.admin.post(redeliver)
    assert response.status_code == 200, response.text
    assert response.json()["status"] in ("pending", "delivered")

    delivered = partner.wait_delivery(task_id, "delivered")
    assert delivered["attempts"] == 1
    assert receiver.received[-1].status == 200
    assert_signed(receiver.received[-1], partner.secret)
    assert partner.deliveries(status="failed") == []


def test_the_keys_default_callback_url_is_used_when_the_message_names_none(
    partner_stack: Stack, receiver: CallbackReceiver
) -> None:
    partner = Partner(partner_stack, callback_url=receiver.url)
    default_task = partner.post("Hello from the default")
    [request] = receiver.wait_for(1)
    assert json.loads(request.body)["data"]["task_id"] == default_task
    assert_signed(request, partner.secret)

    # A callback_url on the message wins over the key's default.
    other = CallbackReceiver().start()
    try:
        explicit_task = partner.post("Hello to the other one", callback_url=other.url)
        [request] = other.wait_for(1)
        assert json.loads(request.body)["data"]["task_id"] == explicit_task
    finally:
        other.stop()
    assert len(receiver.received) == 1


def test_a_task_without_a_callback_url_has_no_delivery(partner_stack: Stack) -> None:
    partner = Partner(partner_stack)
    task_id = partner.post("No hook here")
    wait_until(
        lambda: partner.client.get(f"/api/v1/tasks/{task_id}", params={"wait": 10}).json()["status"] == "done",
        timeout=60,
        what="the task done",
    )
    assert partner.deliveries(task_id=task_id) == []


def test_a_slow_receiver_does_not_hold_up_the_others(partner_stack: Stack) -> None:
    slow, fast = CallbackReceiver().start(), CallbackReceiver().start()
    slow.hold.clear()
    try:
        partner = Partner(partner_stack)
        slow_task = partner.post("To the slow one", callback_url=slow.url)
        wait_until(lambda: partner.deliveries(task_id=slow_task)[0]["attempts"] == 1, timeout=60, what="slow attempt")
        fast_task = partner.post("To the fast one", callback_url=fast.url)
        partner.wait_delivery(fast_task, "delivered")
        # The fast one went out while the slow attempt was still open: not answered (the receiver
        # waits for `hold`), not timed out (nothing recorded on the delivery yet).
        assert slow.received == []
        [slow_delivery] = partner.deliveries(task_id=slow_task)
        assert slow_delivery["status"] == "pending"
        assert slow_delivery["attempts"] == 1 and slow_delivery["last_error"] is None
    finally:
        slow.stop()
        fast.stop()


def test_admin_api_refuses_bad_filters_other_tenants_and_redelivering_a_pending_one(
    partner_stack: Stack, receiver: CallbackReceiver
) -> None:
    partner = Partner(partner_stack)
    base = f"/api/v1/admin/tenants/{partner.tenant_id}/callbacks"
    assert partner.admin.get(base, params={"status": "lost"}).status_code == 422
    assert partner.admin.get(f"{base}/no-such-delivery").status_code == 404
    assert partner.admin.get(f"{base}/not.an.id").status_code == 422
    assert partner.admin.get(base, params={"task_id": "x" * 65}).status_code == 422
    assert partner.admin.post(f"{base}/no-such-delivery/redeliver").status_code == 404
    assert partner.client.get(base).status_code == 403  # no admin scope
    stranger = Partner(partner_stack)
    assert stranger.admin.get(base).status_code == 403  # another tenant's admin key

    receiver.hold.clear()  # keep the first attempt open: the delivery stays pending
    task_id = partner.post("Pending for a while", callback_url=receiver.url)
    wait_until(lambda: len(partner.deliveries(task_id=task_id)) == 1, timeout=60, what="a delivery")
    [pending] = partner.deliveries(task_id=task_id)
    assert pending["status"] == "pending"
    assert partner.admin.post(f"{base}/{pending['id']}/redeliver").status_code == 409
    assert (
        stranger.admin.get(f"/api/v1/admin/tenants/{stranger.tenant_id}/callbacks/{pending['id']}").status_code == 404
    )
    receiver.hold.set()
    partner.wait_delivery(task_id, "delivered")


# ---- claims across dispatchers (no gateway running, so nothing else claims) ---------------------


def test_two_dispatchers_never_claim_the_same_attempt(tmp_path: Any) -> None:
    with fresh_postgres_database("parley_claims") as database_url:
        settings = gateway_settings(database_url=database_url, redis_url=redis_url(dbs.CALLBACKS))
        upgrade(settings)

        async def scenario() -> None:
            engine = make_engine(settings.async_database_url)
            sessions = make_sessionmaker(engine)
            try:
                async with sessions() as session:
                    session.add(Tenant(id="claims", name="Claims", settings={}, callback_secret="whsec_c"))
                    await session.commit()
                    for n in range(20):
                        session.add(
                            CallbackDelivery(
                                tenant_id="claims",
                                task_id=f"task-{n}",
                                url="http://127.0.0.1:9/hook",
                                payload={"id": f"d{n}", "type": "task.completed"},
                                next_attempt_at=utcnow() - timedelta(seconds=1),
                            )
                        )
                    await session.commit()

                async def claim() -> list[str]:
                    async with sessions() as session:
                        return [c.id for c in await claim_due(session, limit=20, lease_seconds=60)]

                rounds = await asyncio.gather(*(claim() for _ in range(4)))
                claimed = [delivery_id for ids in rounds for delivery_id in ids]
                assert len(claimed) == 20 and len(set(claimed)) == 20
                # Under lease, nothing is due any more.
                assert await claim() == []

                # A short lease ends: the attempt is claimed again, and the first holder's late
                # outcome no longer counts.
                async with sessions() as session:
                    [first] = await claim_due_one(session)
                async with sessions() as session:
                    [second] = await claim_due_one(session)
                assert second.id == first.id and second.attempt == first.attempt + 1
                async with sessions() as session:
                    stale = await record_attempt(
                        session,
                        claimed=first,
                        status_code=200,
                        error=None,
                        max_attempts=5,
                        backoff_base=1,
                        backoff_cap=1,
                    )
                    fresh = await record_attempt(
                        session,
                        claimed=second,
                        status_code=200,
                        error=None,
                        max_attempts=5,
                        backoff_base=1,
                        backoff_cap=1,
                    )
                assert stale is None and fresh is DeliveryStatus.delivered
            finally:
                await engine.dispose()

        async def claim_due_one(session: Any) -> list[Any]:
            # A delivery made due again by hand stands for a lease that ended.
            await session.exec(
                update(CallbackDelivery)
                .where(col(CallbackDelivery.task_id) == "task-0")
                .values(next_attempt_at=utcnow() - timedelta(seconds=1))
            )
            await session.commit()
            return await claim_due(session, limit=1, lease_seconds=60)

        asyncio.run(scenario())


def test_callback_url_must_be_http(partner_stack: Stack) -> None:
    partner = Partner(partner_stack)
    body = {"channel": "api", "chat_id": "c", "user": {"id": "u"}, "text": "hi", "callback_url": "ftp://example.com/x"}
    assert partner.client.post("/api/v1/messages", json=body).status_code == 422
    response = httpx.post(
        f"{partner_stack.url}/api/v1/admin/tenants/{partner.tenant_id}/keys",
        json={"name": "k", "scopes": ["messages:write"], "callback_url": "file:///etc/passwd"},
        headers=partner.admin.headers,
    )
    assert response.status_code == 422


def test_private_callback_addresses_are_refused_unless_allowed_in_every_environment() -> None:
    # tests/security/test_ssrf.py has the refusals themselves; here, the setting's default.
    production = GatewaySettings(
        _env_file=None,
        parley_env="production",
        service_token=secrets.token_urlsafe(32),
        admin_token=secrets.token_urlsafe(32),
        worker_token=secrets.token_urlsafe(32),
    )
    development = GatewaySettings(_env_file=None, parley_env="development")
    assert production.callback_allow_private_urls is False and development.callback_allow_private_urls is False
    assert gateway_settings(database_url="sqlite://", redis_url="redis://x").callback_allow_private_urls is False
    assert gateway_settings(
        database_url="sqlite://", redis_url="redis://x", callback_allow_private_urls=True
    ).callback_allow_private_urls
