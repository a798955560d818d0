"""`POST /v1/chat/completions` and `GET /v1/models`: Parley behind any OpenAI SDK."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gateway.auth import Principal, Scope
from gateway.deps import AppState, ChatGateDep, MetricsDep, RequestIdDep, StateDep, authenticate
from gateway.models import Task, Tenant
from gateway.schemas import LIMIT_RESPONSES
from gateway.services.messages import accept_message
from gateway.services.openai_compat import (
    CHANNEL,
    ChatCompletionRequest,
    OpenAIError,
    OpenAIErrorOut,
    completion,
    models_for,
    new_chat_id,
    store_earlier_turns,
    text_of,
    unsupported,
)
from gateway.services.quotas import check_tasks_in_flight
from gateway.services.tasks import get_task
from gateway.services.token_relay import relay
from parley_contract.schemas import MessageIn, Role, TaskStatus, TenantSettings, UserIn

log = logging.getLogger(__name__)
_ERROR_DESCRIPTIONS = {
    400: "Invalid or unsupported request",
    401: "Missing, unknown or revoked API key",
    403: "The key lacks the 'messages:write' scope",
    404: "No such model for this key's tenant",
    429: "Over a rate limit (see Retry-After and X-RateLimit-*) or a daily quota",
    502: "The answer failed",
    503: "Database or queue unavailable; retry after Retry-After",
    504: "No answer within OPENAI_WAIT_SECONDS",
}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for errors in OpenAI's shape (413, from the body cap, keeps Parley's)."""
    entries: dict[int | str, dict[str, Any]] = {
        code: {"model": OpenAIErrorOut, "description": _ERROR_DESCRIPTIONS[code]} for code in codes
    }
    if 429 in codes:
        entries[429]["headers"] = LIMIT_RESPONSES[429]["headers"]
    return entries


router = APIRouter(
    prefix="/v1",
    tags=["openai-compatible"],
    responses={**_errors(400, 401, 403, 429, 503), 413: LIMIT_RESPONSES[413]},
)
_bearer = HTTPBearer(auto_error=False)


async def _caller(
    request: Request, state: StateDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise OpenAIError(401, "missing bearer token: send 'Authorization: Bearer <key>'", code="invalid_api_key")
    principal = await authenticate(request, state, token=credentials.credentials)
    if principal is None:
        raise OpenAIError(401, "invalid API key", code="invalid_api_key")
    if not principal.allows(Scope.messages_write):
        raise OpenAIError(403, "this key lacks the 'messages:write' scope", type="permission_error")
    return principal


Caller = Annotated[Principal, Depends(_caller)]


async def _tenant_settings(state: AppState, tenant_id: str) -> TenantSettings:
    async with state.sessions() as session:
        tenant = await session.get(Tenant, tenant_id)
    return TenantSettings.model_validate(tenant.settings if tenant else {})


@router.get("/models")
async def list_models(principal: Caller, state: StateDep) -> dict[str, Any]:
    """The models this key may ask for: `parley` is the tenant's configured model."""
    names = models_for(await _tenant_settings(state, principal.tenant_id))
    return {
        "object": "list",
        "data": [{"id": name, "object": "model", "created": 0, "owned_by": "parley"} for name in names],
    }


@router.post("/chat/completions", response_model=None, responses=_errors(404, 502, 504))
async def chat_completions(
    request: ChatCompletionRequest,
    principal: Caller,
    state: StateDep,
    gate: ChatGateDep,
    metrics: MetricsDep,
    request_id: RequestIdDep,
) -> JSONResponse | StreamingResponse:
    """Answer the last user message with the tenant's retrieval pipeline, as OpenAI's API does."""
    settings = await _tenant_settings(state, principal.tenant_id)
    if request.model not in models_for(settings):
        raise OpenAIError(404, f"the model {request.model!r} does not exist", code="model_not_found")
    if (problem := unsupported(request)) is not None:
        raise OpenAIError(400, problem, code="unsupported_parameter")
    turns = [(m.role, text_of(m)) for m in request.messages if m.role in ("user", "assistant")]
    if not turns or turns[-1][0] != "user" or not turns[-1][1].strip():
        raise OpenAIError(400, "the last message must be a non-empty 'user' message", code="invalid_messages")
    text = turns[-1][1]
    limit = state.settings.max_text_chars
    if len(text) > limit:
        raise OpenAIError(400, f"the last user message is {len(text)} characters; the limit is {limit}")
    if request.user is not None and not 1 <= len(request.user) <= 128:
        raise OpenAIError(400, "'user' must be 1 to 128 characters")
    chat_id = request.user or new_chat_id()
    # The same per-chat rate limit and daily quotas as POST /api/v1/messages (429 when spent).
    admission = await gate.admit(tenant_id=principal.tenant_id, channel=CHANNEL, chat_id=chat_id)
    try:
        task_id, conversation_id = await _accept(
            state,
            tenant_id=principal.tenant_id,
            chat_id=chat_id,
            new_conversation=request.user is None,
            turns=turns,
            api_key_id=principal.key_id,
            callback_url=principal.callback_url,
            request_id=request_id,
            max_tasks_in_flight=admission.max_tasks_in_flight,
        )
    except BaseException:
        await admission.release()
        raise
    metrics.messages_accepted.labels(channel=CHANNEL).inc()
    await state.jobs.enqueue_answer(task_id)
    headers = {"X-Parley-Task-Id": task_id, "X-Parley-Conversation-Id": conversation_id}
    if request.stream:
        return StreamingResponse(
            relay(
                state,
                task_id=task_id,
                model=request.model,
                read_task=lambda: _read(state, tenant_id=principal.tenant_id, task_id=task_id),
            ),
            media_type="text/event-stream",
            headers={**headers, "Cache-Control": "no-cache"},
        )
    finished = await _wait(
        state, tenant_id=principal.tenant_id, task_id=task_id, seconds=state.settings.openai_wait_seconds
    )
    if finished is None:
        raise OpenAIError(504, "the answer took too long; poll GET /api/v1/tasks/" + task_id, type="timeout")
    if finished.status == TaskStatus.failed:
        raise OpenAIError(502, f"the answer failed: {finished.error}", type="server_error", code="task_failed")
    return JSONResponse(completion(finished, model=request.model), headers=headers)


async def _accept(
    state: AppState,
    *,
    tenant_id: str,
    chat_id: str,
    new_conversation: bool,
    turns: Sequence[tuple[str, str]],
    api_key_id: str | None,
    callback_url: str | None,
    request_id: str | None,
    max_tasks_in_flight: int,
) -> tuple[str, str]:
    """Store the request's last user message as a task; a new conversation (no `user`) first gets the
    request's earlier turns as its history."""
    async with state.sessions() as session:
        if new_conversation and len(turns) > 1:
            # Not worth storing the history of a request the cap refuses (accept_message checks again, atomically).
            await check_tasks_in_flight(session, tenant_id=tenant_id, limit=max_tasks_in_flight)
            await store_earlier_turns(
                session, tenant_id=tenant_id, chat_id=chat_id, turns=[(Role(role), body) for role, body in turns[:-1]]
            )
        task, _created = await accept_message(
            session,
            tenant_id=tenant_id,
            message=MessageIn(channel=CHANNEL, chat_id=chat_id, user=UserIn(id=chat_id), text=turns[-1][1]),
            idempotency_key=None,
            api_key_id=api_key_id,
            callback_url=callback_url,
            request_id=request_id,
            max_tasks_in_flight=max_tasks_in_flight,
        )
        return task.id, task.conversation_id


async def _wait(state: AppState, *, tenant_id: str, task_id: str, seconds: float) -> Task | None:
    """The finished task, or None after `seconds`."""
    deadline = time.monotonic() + seconds
    async with state.events.subscription(task_id) as finished:
        while True:
            task = await _read(state, tenant_id=tenant_id, task_id=task_id)
            if task.status in (TaskStatus.done, TaskStatus.failed):
                return task
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), timeout=min(remaining, 1.0))
            finished.clear()


async def _read(state: AppState, *, tenant_id: str, task_id: str) -> Task:
    async with state.sessions() as session:
        task = await get_task(session, tenant_id=tenant_id, task_id=task_id)
    assert task is not None
    return task


async def openai_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OpenAIError)
    return JSONResponse(exc.body(), status_code=exc.status)


def validation_error_for_openai(exc: RequestValidationError) -> JSONResponse:
    message = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
    return JSONResponse(OpenAIError(400, message or "invalid request").body(), status_code=400)
