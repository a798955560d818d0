"""Accepting a customer's message: contact, conversation, message and task in one transaction."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.models import Contact, Conversation, Message, Task
from gateway.services.quotas import check_tasks_in_flight, hold_admission
from parley_contract.schemas import MessageIn, Role


async def find_task_by_key(session: AsyncSession, *, tenant_id: str, idempotency_key: str) -> Task | None:
    result = await session.exec(
        select(Task).where(Task.tenant_id == tenant_id, Task.idempotency_key == idempotency_key)
    )
    return result.first()


async def _contact(session: AsyncSession, *, tenant_id: str, message: MessageIn) -> Contact:
    result = await session.exec(
        select(Contact).where(
            Contact.tenant_id == tenant_id,
            Contact.channel == message.channel,
            Contact.external_id == message.user.id,
        )
    )
    contact = result.first()
    if contact is None:
        contact = Contact(
            tenant_id=tenant_id,
            channel=message.channel,
            external_id=message.user.id,
            name=message.user.name,
            language=message.user.language,
        )
        session.add(contact)
    else:
        contact.name = message.user.name or contact.name
        contact.language = message.user.language or contact.language
    return contact


async def _open_conversation(
    session: AsyncSession, *, tenant_id: str, contact: Contact, message: MessageIn
) -> Conversation:
    result = await session.exec(
        select(Conversation)
        .where(
            Conversation.tenant_id == tenant_id,
            Conversation.channel == message.channel,
            Conversation.chat_id == message.chat_id,
            col(Conversation.is_open).is_(True),
        )
        .order_by(col(Conversation.created_at).desc())
    )
    conversation = result.first()
    if conversation is None:
        conversation = Conversation(
            tenant_id=tenant_id, contact_id=contact.id, channel=message.channel, chat_id=message.chat_id
        )
        session.add(conversation)
    return conversation


async def _admit(session: AsyncSession, *, tenant_id: str, idempotency_key: str, limit: int) -> Task | None:
    """Hold the tenant's admission lock until the new task commits, if there is room for it (else
    TooManyTasksInFlight); a duplicate that waited here for its first request gets that task."""
    await hold_admission(session, tenant_id=tenant_id)
    existing = await find_task_by_key(session, tenant_id=tenant_id, idempotency_key=idempotency_key)
    if existing is not None:
        await session.commit()  # nothing written: lets go of the lock
        return existing
    await check_tasks_in_flight(session, tenant_id=tenant_id, limit=limit)
    return None


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before with a different message."""


def message_hash(message: MessageIn) -> str:
    return hashlib.sha256(message.model_dump_json().encode()).hexdigest()


async def accept_message(
    session: AsyncSession,
    *,
    tenant_id: str,
    message: MessageIn,
    idempotency_key: str | None,
    api_key_id: str | None = None,
    callback_url: str | None = None,
    request_id: str | None = None,
    max_tasks_in_flight: int | None = None,
) -> tuple[Task, bool]:
    """Store the message and its task; returns the task and whether it is new.

    The same idempotency key with the same message always returns the first task (concurrent
    duplicates lose the race on the unique constraint and return the winner's task); with a
    different message it raises IdempotencyConflict. With `max_tasks_in_flight`, a new task is
    refused (TooManyTasksInFlight) while the tenant has that many queued or running; a duplicate
    of an accepted message still gets its task.
    """
    key = idempotency_key or f"auto:{uuid.uuid4().hex}"
    request_hash = message_hash(message)
    for _attempt in range(3):
        existing = await find_task_by_key(session, tenant_id=tenant_id, idempotency_key=key)
        if existing is None and max_tasks_in_flight is not None:
            existing = await _admit(session, tenant_id=tenant_id, idempotency_key=key, limit=max_tasks_in_flight)
        if existing is not None:
            if existing.request_hash is not None and existing.request_hash != request_hash:
                raise IdempotencyConflict(f"Idempotency-Key {key!r} was used with a different message")
            return existing, False
        try:
            contact = await _contact(session, tenant_id=tenant_id, message=message)
            await session.flush()
            conversation = await _open_conversation(session, tenant_id=tenant_id, contact=contact, message=message)
            inbound = Message(tenant_id=tenant_id, conversation_id=conversation.id, role=Role.user, text=message.text)
            task = Task(
                tenant_id=tenant_id,
                conversation_id=conversation.id,
                message_id=inbound.id,
                idempotency_key=key,
                request_hash=request_hash,
                api_key_id=api_key_id,
                callback_url=callback_url,
                request_id=request_id,
            )
            inbound.task_id = task.id
            session.add(inbound)
            await session.flush()
            session.add(task)
            await session.commit()
        except IntegrityError:
            # Another request stored the same key or contact first: read theirs and go again.
            await session.rollback()
            continue
        return task, True
    raise RuntimeError("could not store the message after repeated conflicts")
