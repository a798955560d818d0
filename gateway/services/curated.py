"""Curated answers: a tenant's question → answer pairs, from FAQ documents or staff.

A document's pairs are replaced when it is ingested again and removed with it; staff-made ones
stay, and a document's pair whose question staff already answered is not stored (staff win).
Every change bumps the tenant's knowledge version, which drops the workers' cached copy.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.models import CuratedAnswer, Message, Task, as_utc, utcnow
from parley_contract.curated import CuratedAnswerOut, CuratedPair
from parley_contract.names import KNOWLEDGE_VERSION_PREFIX

log = logging.getLogger(__name__)

STAFF = "staff"


class TaskHasNoQuestion(LookupError):
    """The task is not the tenant's, or its message is gone."""


def answer_out(row: CuratedAnswer) -> CuratedAnswerOut:
    return CuratedAnswerOut(
        id=row.id,
        tenant_id=row.tenant_id,
        question=row.question,
        answer=row.answer,
        source=row.source,
        updated_by=row.updated_by,
        task_id=row.task_id,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
    )


async def knowledge_changed(redis: Redis, *, tenant_id: str) -> None:
    """Tell the workers to fetch the tenant's curated answers again (best effort: the change is stored)."""
    try:
        await redis.incr(KNOWLEDGE_VERSION_PREFIX + tenant_id)
    except RedisError as exc:
        log.warning("tenant %s: curated answers changed but the workers were not told (%s)", tenant_id, exc)


async def list_answers(session: AsyncSession, *, tenant_id: str, source: str | None = None) -> list[CuratedAnswer]:
    query = select(CuratedAnswer).where(CuratedAnswer.tenant_id == tenant_id)
    if source is not None:
        query = query.where(CuratedAnswer.source == source)
    rows = await session.exec(query.order_by(col(CuratedAnswer.created_at), col(CuratedAnswer.id)))
    return list(rows.all())


async def get_answer(session: AsyncSession, *, tenant_id: str, answer_id: str) -> CuratedAnswer | None:
    row = await session.get(CuratedAnswer, answer_id)
    return row if row is not None and row.tenant_id == tenant_id else None


async def add_answer(
    session: AsyncSession, *, tenant_id: str, question: str, answer: str, by: str, task_id: str | None = None
) -> CuratedAnswer:
    row = CuratedAnswer(
        tenant_id=tenant_id,
        question=question.strip(),
        answer=answer.strip(),
        source=STAFF,
        updated_by=by,
        task_id=task_id,
    )
    session.add(row)
    await session.commit()
    await session.refresh(row)
    return row


async def task_question(session: AsyncSession, *, tenant_id: str, task_id: str) -> str:
    """The customer's message the task answered (the question a correction is stored under)."""
    task = await session.get(Task, task_id)
    if task is None or task.tenant_id != tenant_id:
        raise TaskHasNoQuestion(f"no task {task_id!r}")
    message = await session.get(Message, task.message_id)
    if message is None or not message.text.strip():
        raise TaskHasNoQuestion(f"task {task_id!r} has no customer message")
    return message.text.strip()


async def edit_answer(
    session: AsyncSession, *, row: CuratedAnswer, question: str | None, answer: str | None, by: str
) -> CuratedAnswer:
    """Staff's edit; an edited document pair becomes staff's (a re-ingestion then leaves it alone)."""
    if question is not None:
        row.question = question.strip()
    if answer is not None:
        row.answer = answer.strip()
    row.source, row.updated_by, row.updated_at = STAFF, by, utcnow()
    session.add(row)
    await session.commit()
    await session.refresh(row)
    return row


async def delete_answer(session: AsyncSession, *, row: CuratedAnswer) -> None:
    await session.delete(row)
    await session.commit()


async def replace_document_pairs(
    session: AsyncSession, *, tenant_id: str, document_id: str, pairs: list[CuratedPair]
) -> list[CuratedAnswer]:
    """The document's pairs become `pairs`, except those whose question staff already answered."""
    await session.exec(delete(CuratedAnswer).where(col(CuratedAnswer.source) == document_id))
    staff_questions = {r.question.casefold() for r in await list_answers(session, tenant_id=tenant_id, source=STAFF)}
    rows = []
    for pair in pairs:
        key = pair.question.strip().casefold()
        if key in staff_questions:
            continue
        staff_questions.add(key)  # a question repeated in the document is stored once
        row = CuratedAnswer(
            tenant_id=tenant_id,
            question=pair.question.strip(),
            answer=pair.answer.strip(),
            source=document_id,
            updated_by="ingestion",
        )
        session.add(row)
        rows.append(row)
    await session.commit()
    return rows


async def remove_document_pairs(session: AsyncSession, *, document_id: str) -> None:
    await session.exec(delete(CuratedAnswer).where(col(CuratedAnswer.source) == document_id))
    await session.commit()
