"""The claim's order and burst rules on the real databases (SQLite and PostgreSQL), and the pure plan."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.db import make_engine, make_sessionmaker
from gateway.migrate import upgrade
from gateway.models import Task
from gateway.services.messages import accept_message
from gateway.services.ordering import Claimable, DeferReason, Deferred, OpenTask, plan_claim
from gateway.services.tasks import claim_task, complete_task, get_task, task_out
from parley_contract.schemas import MessageIn, TaskClaim, TaskCompletion, TaskStatus, Timings
from parley_testkit.stack import gateway_settings
from tests.support.databases import fresh_postgres_database

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: float, task_id: str, status: TaskStatus = TaskStatus.queued) -> OpenTask:
    return OpenTask(id=task_id, created_at=T0 + timedelta(seconds=seconds), status=status)


# ---- the plan, on its own ----


def test_without_a_window_a_task_waits_for_every_earlier_open_task() -> None:
    tasks = [at(0, "a", TaskStatus.running), at(0.1, "b"), at(0.2, "c")]
    now = T0 + timedelta(seconds=5)
    assert plan_claim(task=tasks[1], open_tasks=tasks, window_seconds=0, now=now) == Deferred(
        DeferReason.earlier_pending
    )
    assert plan_claim(task=tasks[2], open_tasks=tasks[1:], window_seconds=0, now=now) == Deferred(
        DeferReason.earlier_pending
    )
    assert plan_claim(task=tasks[1], open_tasks=tasks[1:], window_seconds=0, now=now) == Claimable([])


def test_a_burst_is_answered_by_its_latest_task_once_the_window_has_passed() -> None:
    tasks = [at(0, "a"), at(1.0, "b"), at(2.5, "c")]
    # "a" and "b" are followed within the window: the latest answers them.
    for early in tasks[:2]:
        assert plan_claim(task=early, open_tasks=tasks, window_seconds=2, now=T0 + timedelta(seconds=9)) == Deferred(
            DeferReason.superseded
        )
    young = plan_claim(task=tasks[2], open_tasks=tasks, window_seconds=2, now=T0 + timedelta(seconds=3))
    assert isinstance(young, Deferred) and young.reason == DeferReason.burst_open
    assert young.retry_after == pytest.approx(1.5)
    closed = plan_claim(task=tasks[2], open_tasks=tasks, window_seconds=2, now=T0 + timedelta(seconds=5))
    assert closed == Claimable(["a", "b"])


def test_a_burst_stops_at_a_gap_longer_than_the_window_and_at_a_running_task() -> None:
    now = T0 + timedelta(seconds=60)
    gap = [at(0, "a"), at(5, "b"), at(6, "c")]
    # "a" is older than the window before "b": it is answered first, on its own; "c" waits for it.
    assert plan_claim(task=gap[0], open_tasks=gap, window_seconds=2, now=now) == Claimable([])
    assert plan_claim(task=gap[2], open_tasks=gap, window_seconds=2, now=now) == Deferred(DeferReason.earlier_pending)
    assert plan_claim(task=gap[2], open_tasks=gap[1:], window_seconds=2, now=now) == Claimable(["b"])
    running = [at(0, "a", TaskStatus.running), at(1, "b")]
    assert plan_claim(task=running[1], open_tasks=running, window_seconds=2, now=now) == Deferred(
        DeferReason.earlier_pending
    )


# ---- claims on the databases ----


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'parley.db'}"
        return
    with fresh_postgres_database("parley_order") as url:
        yield url


Scenario = Callable[[async_sessionmaker[AsyncSession], str], Awaitable[None]]


def run(database_url: str, scenario: Scenario) -> None:
    settings = gateway_settings(database_url=database_url, redis_url="redis://127.0.0.1:1/0")
    upgrade(settings)

    async def main() -> None:
        engine = make_engine(settings.async_database_url)
        try:
            await scenario(make_sessionmaker(engine), settings.default_tenant_id)
        finally:
            await engine.dispose()

    asyncio.run(main())


async def post(sessions: async_sessionmaker[AsyncSession], tenant_id: str, text: str, *, channel: str = "web") -> str:
    message = MessageIn.model_validate({"channel": channel, "chat_id": "c1", "user": {"id": "u1"}, "text": text})
    async with sessions() as session:
        task, created = await accept_message(session, tenant_id=tenant_id, message=message, idempotency_key=None)
    assert created
    return task.id


async def claim(sessions: async_sessionmaker[AsyncSession], task_id: str, **kwargs: Any) -> TaskClaim | Deferred | None:
    async with sessions() as session:
        return await claim_task(session, task_id=task_id, lease_seconds=600, **kwargs)


async def answer(sessions: async_sessionmaker[AsyncSession], task_id: str, text: str) -> list[str]:
    async with sessions() as session:
        reply = await complete_task(
            session, task_id=task_id, completion=TaskCompletion(answer=text, sources=[], timings=Timings())
        )
    assert reply is not None
    return reply.merged_task_ids


async def read(sessions: async_sessionmaker[AsyncSession], tenant_id: str, task_id: str) -> Task:
    async with sessions() as session:
        task = await get_task(session, tenant_id=tenant_id, task_id=task_id)
    assert task is not None
    return task


def test_a_task_is_claimed_only_after_the_earlier_ones_of_its_conversation(database_url: str) -> None:
    async def scenario(sessions: async_sessionmaker[AsyncSession], tenant_id: str) -> None:
        first, second = await post(sessions, tenant_id, "first"), await post(sessions, tenant_id, "second")
        assert await claim(sessions, second) == Deferred(DeferReason.earlier_pending)
        claimed = await claim(sessions, first)
        assert isinstance(claimed, TaskClaim) and claimed.text == "first"
        assert await claim(sessions, second) == Deferred(DeferReason.earlier_pending)  # first is running
        await answer(sessions, first, "Answer one.")
        claimed = await claim(sessions, second)
        assert isinstance(claimed, TaskClaim) and claimed.text == "second"
        assert [t.text for t in claimed.history] == ["first", "Answer one."]

    run(database_url, scenario)


def test_concurrent_claims_of_one_conversation_let_only_the_earliest_run(database_url: str) -> None:
    async def scenario(sessions: async_sessionmaker[AsyncSession], tenant_id: str) -> None:
        ids = [await post(sessions, tenant_id, f"message {i}") for i in range(4)]
        results = await asyncio.gather(*(claim(sessions, task_id) for task_id in reversed(ids)))
        claimed = [r.task_id for r in results if isinstance(r, TaskClaim)]
        assert claimed == [ids[0]], results
        assert all(isinstance(r, Deferred) for r in results if not isinstance(r, TaskClaim))

    run(database_url, scenario)


def test_a_burst_is_merged_into_its_latest_task_and_finished_with_its_answer(database_url: str) -> None:
    window = 0.6

    async def scenario(sessions: async_sessionmaker[AsyncSession], tenant_id: str) -> None:
        ids = [await post(sessions, tenant_id, text) for text in ("Hi", "I ordered a sofa", "when does it come?")]
        burst = {"burst_window_seconds": window}
        assert await claim(sessions, ids[0], **burst) == Deferred(DeferReason.superseded)
        young = await claim(sessions, ids[2], **burst)
        assert isinstance(young, Deferred) and young.reason == DeferReason.burst_open
        assert young.retry_after is not None and 0 < young.retry_after <= window
        await asyncio.sleep(young.retry_after + 0.05)
        claimed = await claim(sessions, ids[2], **burst)
        assert isinstance(claimed, TaskClaim)
        assert claimed.text == "Hi\nI ordered a sofa\nwhen does it come?"
        assert claimed.history == []
        # The merged tasks are nobody's to claim any more.
        assert await claim(sessions, ids[0], **burst) is None
        assert [(await read(sessions, tenant_id, i)).merged_into for i in ids] == [ids[2], ids[2], None]
        assert await answer(sessions, ids[2], "Tomorrow.") == ids[:2]
        for task_id in ids[:2]:
            merged = task_out(await read(sessions, tenant_id, task_id))
            assert (merged.status, merged.answer, merged.merged_into) == (TaskStatus.done, "Tomorrow.", ids[2])

    run(database_url, scenario)


def test_excluded_channels_are_never_merged(database_url: str) -> None:
    async def scenario(sessions: async_sessionmaker[AsyncSession], tenant_id: str) -> None:
        ids = [await post(sessions, tenant_id, f"request {i}", channel="api") for i in range(2)]
        rules: dict[str, Any] = {"burst_window_seconds": 30, "burst_excluded_channels": frozenset({"api"})}
        # Followed within the window, yet answered on its own at once.
        claimed = await claim(sessions, ids[0], **rules)
        assert isinstance(claimed, TaskClaim) and claimed.text == "request 0"
        await answer(sessions, ids[0], "One.")
        claimed = await claim(sessions, ids[1], **rules)
        assert isinstance(claimed, TaskClaim) and claimed.text == "request 1"
        assert await answer(sessions, ids[1], "Two.") == []

    run(database_url, scenario)
