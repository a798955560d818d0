"""Customers' ratings of answers (the 👍/👎 buttons under a channel's answer)."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.models import Feedback, Message, Task, utcnow
from parley_contract.schemas import FeedbackIn, FeedbackOut, FeedbackRating, Role


async def find_answer(session: AsyncSession, *, tenant_id: str, answer_id: str) -> Message | None:
    """The assistant message `answer_id` names: its own id, or the id of the task that produced it."""
    message = await session.get(Message, answer_id)
    if message is not None and message.tenant_id == tenant_id and message.role == Role.assistant:
        return message
    task = await session.get(Task, answer_id)
    if task is None or task.tenant_id != tenant_id:
        return None
    rows = await session.exec(
        select(Message)
        .where(Message.task_id == task.id, Message.role == Role.assistant)
        .order_by(col(Message.created_at).desc())
    )
    return rows.first()


async def store_feedback(session: AsyncSession, *, answer: Message, feedback: FeedbackIn) -> FeedbackOut:
    """Insert or replace the rating of `answer` (one per message)."""
    rows = await session.exec(
        select(Feedback).where(Feedback.tenant_id == answer.tenant_id, Feedback.message_id == answer.id)
    )
    row = rows.first()
    if row is None:
        row = Feedback(tenant_id=answer.tenant_id, message_id=answer.id, task_id=answer.task_id, rating="")
    row.rating = feedback.rating.value
    row.comment = feedback.comment
    row.created_at = utcnow()
    session.add(row)
    await session.commit()
    await session.refresh(row)
    return FeedbackOut(
        message_id=row.message_id,
        task_id=row.task_id,
        rating=FeedbackRating(row.rating),
        comment=row.comment,
        created_at=row.created_at,
    )
