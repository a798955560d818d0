"""Admin API: a tenant's curated answers (question → answer pairs answered as written)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, Field, model_validator

from gateway.deps import AdminCaller, AdminTenant, RedisDep, SessionDep
from gateway.models import CuratedAnswer, Tenant
from gateway.schemas import TENANT_ERRORS, error_responses
from gateway.services import curated
from parley_contract.curated import MAX_ANSWER_CHARS, MAX_QUESTION_CHARS, CuratedAnswerOut

router = APIRouter(prefix="/api/v1/admin/tenants/{tenant_id}", tags=["admin: curated answers"], responses=TENANT_ERRORS)

AnswerId = Annotated[str, Path(min_length=1, max_length=32)]


class CuratedAnswerIn(BaseModel):
    """A new curated answer: a question and its answer, or, to correct an answer the assistant gave,
    the task's id and the right answer (the task's customer message becomes the question)."""

    question: str | None = Field(default=None, min_length=1, max_length=MAX_QUESTION_CHARS, pattern=r"\S")
    answer: str = Field(min_length=1, max_length=MAX_ANSWER_CHARS, pattern=r"\S")
    task_id: str | None = Field(default=None, min_length=1, max_length=32)

    @model_validator(mode="after")
    def _question_or_task(self) -> CuratedAnswerIn:
        if self.question is None and self.task_id is None:
            raise ValueError("give the question, or the task_id of the answer this one corrects")
        return self


class CuratedAnswerPatch(BaseModel):
    question: str | None = Field(default=None, min_length=1, max_length=MAX_QUESTION_CHARS, pattern=r"\S")
    answer: str | None = Field(default=None, min_length=1, max_length=MAX_ANSWER_CHARS, pattern=r"\S")


async def _answer(session: SessionDep, tenant: Tenant, answer_id: str) -> CuratedAnswer:
    row = await curated.get_answer(session, tenant_id=tenant.id, answer_id=answer_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no curated answer {answer_id!r}")
    return row


@router.get("/curated-answers", response_model=list[CuratedAnswerOut])
async def list_curated_answers(
    tenant: AdminTenant,
    session: SessionDep,
    source: Annotated[str | None, Query(min_length=1, max_length=32, description='"staff" or a document id')] = None,
) -> list[CuratedAnswerOut]:
    rows = await curated.list_answers(session, tenant_id=tenant.id, source=source)
    return [curated.answer_out(r) for r in rows]


@router.post(
    "/curated-answers",
    status_code=status.HTTP_201_CREATED,
    response_model=CuratedAnswerOut,
    responses=error_responses(404),
)
async def add_curated_answer(
    body: CuratedAnswerIn, tenant: AdminTenant, principal: AdminCaller, session: SessionDep, redis: RedisDep
) -> CuratedAnswerOut:
    """Staff's answer to a question, answered as written from the next message on. With `task_id`
    ("correct this answer"), the question is that task's customer message (404: not this tenant's task)."""
    question = body.question
    if body.task_id is not None and question is None:
        try:
            question = await curated.task_question(session, tenant_id=tenant.id, task_id=body.task_id)
        except curated.TaskHasNoQuestion as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    assert question is not None  # the body's validator requires one of the two
    row = await curated.add_answer(
        session, tenant_id=tenant.id, question=question, answer=body.answer, by=principal.name, task_id=body.task_id
    )
    await curated.knowledge_changed(redis, tenant_id=tenant.id)
    return curated.answer_out(row)


@router.get("/curated-answers/{answer_id}", response_model=CuratedAnswerOut)
async def read_curated_answer(answer_id: AnswerId, tenant: AdminTenant, session: SessionDep) -> CuratedAnswerOut:
    return curated.answer_out(await _answer(session, tenant, answer_id))


@router.patch("/curated-answers/{answer_id}", response_model=CuratedAnswerOut)
async def edit_curated_answer(
    answer_id: AnswerId,
    body: CuratedAnswerPatch,
    tenant: AdminTenant,
    principal: AdminCaller,
    session: SessionDep,
    redis: RedisDep,
) -> CuratedAnswerOut:
    """Change the question or the answer; a pair from a document becomes staff's, so ingesting the
    document again does not undo the edit."""
    row = await curated.edit_answer(
        session,
        row=await _answer(session, tenant, answer_id),
        question=body.question,
        answer=body.answer,
        by=principal.name,
    )
    await curated.knowledge_changed(redis, tenant_id=tenant.id)
    return curated.answer_out(row)


@router.delete("/curated-answers/{answer_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_curated_answer(answer_id: AnswerId, tenant: AdminTenant, session: SessionDep, redis: RedisDep) -> None:
    """Remove it (a document's pair comes back if the document is ingested again)."""
    await curated.delete_answer(session, row=await _answer(session, tenant, answer_id))
    await curated.knowledge_changed(redis, tenant_id=tenant.id)
