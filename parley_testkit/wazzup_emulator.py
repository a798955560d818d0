"""A Wazzup24 API v3 emulator: a real HTTP server on loopback speaking the documented wire format.

It stands in for Wazzup (the only part of the WhatsApp path we may replace, see
../shared/reference/wazzup-v3.md): `POST /v3/message` (201 on success, 400 with the documented
error codes, REPEATED_CRM_MESSAGE_ID within 60 s, 401 for a wrong key, 429 past the rate limit),
`GET|PATCH /v3/webhooks` (the `{"test": true}` POST on registration) and `GET /v3/channels`.
Tests inject 429 windows and 5xx answers, hold a send in flight, and make customers write: the
emulator POSTs webhooks to the registered URI like Wazzup does, and by default also echoes every
message sent through the API back as an `isEcho: true` webhook.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from parley_testkit.servers import UvicornThread, wait_until

CHAT_TYPES = {"whatsapp", "whatsgroup", "viber", "instagram", "telegram", "telegroup", "vk", "avito", "max", "maxgroup"}
TEXT_LIMITS = {"whatsapp": 10_000}
REPEAT_WINDOW_SECONDS = 60.0
TRANSPORT_CHAT_TYPES = {
    "whatsapp": {"whatsapp", "whatsgroup"},
    "telegram": {"telegram", "telegroup"},
    "max": {"max", "maxgroup"},
}
STATE_ERRORS = {"blocked": "CHANNEL_BLOCKED", "notEnoughMoney": "CHANNEL_NO_MONEY"}


@dataclass
class Fault:
    """The next `times` sends answer `status`; with `store_first` the message is sent before the error."""

    status: int
    times: int = 1
    store_first: bool = False


@dataclass
class SendAttempt:
    body: dict[str, Any]
    status: int
    at: float


@dataclass
class WazzupEmulator:
    api_key: str = "test-wazzup-key"
    channels: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"channelId": str(uuid.uuid4()), "transport": "whatsapp", "plainId": "971500000001", "state": "active"},
            {"channelId": str(uuid.uuid4()), "transport": "telegram", "plainId": "parley_shop", "state": "active"},
        ]
    )
    echo_api_sends: bool = True
    requests_per_window: int = 500
    window_seconds: float = 5.0
    webhooks_uri: str | None = None
    subscriptions: dict[str, bool] = field(default_factory=dict)
    #: Messages the customers actually received, in order.
    sent: list[dict[str, Any]] = field(default_factory=list)
    #: Every POST /v3/message, with the status it got.
    attempts: list[SendAttempt] = field(default_factory=list)
    #: Responses of the webhooks this emulator posted (status codes), in order.
    webhook_responses: list[int] = field(default_factory=list)
    faults: deque[Fault] = field(default_factory=deque)
    media: dict[str, bytes] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _crm_ids: dict[str, float] = field(default_factory=dict)
    _request_times: deque[float] = field(default_factory=deque)
    _limited_until: float = 0.0
    _limit_next_for: float | None = None
    _holds: deque[threading.Event] = field(default_factory=deque)
    _held: int = 0
    _server: UvicornThread | None = None

    # ---- the test's controls ----

    @property
    def url(self) -> str:
        """The API base, as WAZZUP_API_BASE."""
        assert self._server is not None, "start() the emulator first"
        return f"{self._server.url}/v3"

    @property
    def whatsapp_channel_id(self) -> str:
        return str(next(c["channelId"] for c in self.channels if c["transport"] == "whatsapp"))

    def fail_next(self, status: int, *, times: int = 1, store_first: bool = False) -> None:
        with self._lock:
            self.faults.append(Fault(status=status, times=times, store_first=store_first))

    def rate_limit_for(self, seconds: float) -> None:
        """From the next send on, answer 429 until `seconds` have passed, like an exhausted rate-limit window."""
        with self._lock:
            self._limit_next_for = seconds

    def hold_next_send(self) -> threading.Event:
        """The next send waits (unanswered) until the returned event is set; then it is sent and answered."""
        event = threading.Event()
        with self._lock:
            self._holds.append(event)
        return event

    @property
    def held(self) -> int:
        """How many sends are waiting on a hold now."""
        return self._held

    def host_media(self, name: str, content: bytes) -> str:
        """Serve a file like Wazzup's media storage does for a message's contentUri; returns its URL."""
        with self._lock:
            self.media[name] = content
        assert self._server is not None, "start() the emulator first"
        return f"{self._server.url}/media/{name}"

    def sent_to(self, chat_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.sent if m["chatId"] == chat_id]

    def attempts_for(self, chat_id: str) -> list[SendAttempt]:
        with self._lock:
            return [a for a in self.attempts if a.body.get("chatId") == chat_id]

    def wait_sent(self, chat_id: str, count: int = 1, *, timeout: float = 90) -> list[dict[str, Any]]:
        wait_until(
            lambda: len(self.sent_to(chat_id)) >= count, timeout=timeout, what=f"{count} message(s) to {chat_id}"
        )
        return self.sent_to(chat_id)

    def post_webhook(self, body: Any, *, raw: bytes | None = None, uri: str | None = None) -> httpx.Response:
        """POST a webhook to the registered URI (or `uri`) like Wazzup does: JSON, 30 s timeout."""
        target = uri or self.webhooks_uri
        assert target, "no webhook registered"
        content = raw if raw is not None else json.dumps(body).encode()
        response = httpx.post(target, content=content, headers={"Content-Type": "application/json"}, timeout=30)
        with self._lock:
            self.webhook_responses.append(response.status_code)
        return response

    def inbound_message(
        self,
        chat_id: str,
        text: str | None = None,
        *,
        message_id: str | None = None,
        type: str = "text",
        name: str = "Alex",
        **extra: Any,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "messageId": message_id or str(uuid.uuid4()),
            "dateTime": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "channelId": self.whatsapp_channel_id,
            "chatType": "whatsapp",
            "chatId": chat_id,
            "type": type,
            "isEcho": False,
            "contact": {"name": name, "avatarUri": "https://store.wazzup24.com/avatar.png"},
            "status": "inbound",
        }
        if text is not None:
            message["text"] = text
        message.update(extra)
        return message

    def customer_writes(self, chat_id: str, text: str | None = None, **kwargs: Any) -> tuple[str, httpx.Response]:
        """A customer's message arrives: Wazzup posts it to the webhook. Returns its messageId and our answer."""
        message = self.inbound_message(chat_id, text, **kwargs)
        return message["messageId"], self.post_webhook({"messages": [message]})

    # ---- the server ----

    def start(self) -> WazzupEmulator:
        self._server = UvicornThread(self._app()).start()
        return self

    def stop(self) -> None:
        with self._lock:
            holds = list(self._holds)
        for event in holds:
            event.set()
        if self._server is not None:
            self._server.stop()

    def _error(self, status: int, code: str, description: str, data: dict[str, Any] | None = None) -> JSONResponse:
        body = {"status": status, "requestId": uuid.uuid4().hex, "error": code, "description": description}
        if data is not None:
            body["data"] = data
        return JSONResponse(body, status_code=status)

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.api_key}"

    def _rate_limited(self) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._request_times and self._request_times[0] <= now - self.window_seconds:
                self._request_times.popleft()
            self._request_times.append(now)
            if self._limit_next_for is not None:
                self._limited_until, self._limit_next_for = now + self._limit_next_for, None
            return now < self._limited_until or len(self._request_times) > self.requests_per_window

    def _validate(self, body: Any) -> JSONResponse | None:
        if not isinstance(body, dict):
            return self._error(400, "INVALID_MESSAGE_DATA", "Request body must be a JSON object")
        missing = [name for name in ("channelId", "chatType", "chatId") if not body.get(name)]
        if missing:
            return self._error(400, "VALIDATION_ERROR", "Required fields are missing", {"fields": missing})
        if body["chatType"] not in CHAT_TYPES:
            return self._error(400, "VALIDATION_ERROR", "Unknown chatType", {"fields": ["chatType"]})
        channel = next((c for c in self.channels if c["channelId"] == body["channelId"]), None)
        if channel is None:
            return self._error(400, "CHANNEL_NOT_FOUND", "Channel not found")
        if channel["state"] != "active":
            code = STATE_ERRORS.get(channel["state"], "MESSAGE_CHANNEL_UNAVAILABLE")
            return self._error(400, code, f"Channel is {channel['state']}")
        transport = str(channel["transport"])
        if body["chatType"] not in TRANSPORT_CHAT_TYPES.get(transport, {transport}):
            return self._error(400, "WRONG_TRANSPORT", "chatType does not match the channel's transport")
        if body["chatType"] == "whatsapp" and not re.fullmatch(r"\d{5,20}", str(body["chatId"])):
            return self._error(400, "BAD_CONTACT", "chatId must be the phone number in digits")
        has_text, has_content = bool(body.get("text")), bool(body.get("contentUri"))
        if has_text == has_content:
            return self._error(400, "INVALID_MESSAGE_DATA", "Exactly one of text and contentUri is required")
        limit = TEXT_LIMITS.get(str(body["chatType"]))
        if has_text and limit is not None and len(str(body["text"])) > limit:
            return self._error(400, "MESSAGE_TEXT_TOO_LONG", f"Text is longer than {limit} characters")
        return None

    def _repeated(self, crm_message_id: str | None) -> bool:
        if not crm_message_id:
            return False
        now = time.monotonic()
        with self._lock:
            seen = self._crm_ids.get(crm_message_id)
            return seen is not None and now - seen < REPEAT_WINDOW_SECONDS

    def _store(self, body: dict[str, Any]) -> dict[str, Any]:
        message_id = str(uuid.uuid4())
        with self._lock:
            if body.get("crmMessageId"):
                self._crm_ids[str(body["crmMessageId"])] = time.monotonic()
            self.sent.append({**body, "messageId": message_id})
        return {"messageId": message_id, "chatId": body["chatId"]}

    async def _echo(self, body: dict[str, Any], message_id: str) -> None:
        """Wazzup may report our own API sends back as outgoing messages: an echo, then a status."""
        if not (self.echo_api_sends and self.webhooks_uri):
            return
        echo = {
            **self.inbound_message(str(body["chatId"]), body.get("text"), message_id=message_id),
            "isEcho": True,
            "status": "sent",
            "authorName": "Parley",
        }
        statuses = {"statuses": [{"messageId": message_id, "timestamp": echo["dateTime"], "status": "delivered"}]}
        async with httpx.AsyncClient(timeout=30) as client:
            for payload in ({"messages": [echo]}, statuses):
                try:
                    response = await client.post(self.webhooks_uri, json=payload)
                    with self._lock:
                        self.webhook_responses.append(response.status_code)
                except httpx.HTTPError:
                    pass

    def _app(self) -> FastAPI:
        app = FastAPI()
        emulator = self
        background: set[asyncio.Task[None]] = set()

        @app.post("/v3/message")
        async def send_message(request: Request) -> Response:
            if not emulator._authorized(request):
                return Response(status_code=401)
            try:
                body = json.loads(await request.body())
            except ValueError:
                return emulator._error(400, "INVALID_MESSAGE_DATA", "Request body is not valid JSON")
            response = await emulator._send(body)
            with emulator._lock:
                emulator.attempts.append(
                    SendAttempt(
                        body=body if isinstance(body, dict) else {}, status=response.status_code, at=time.time()
                    )
                )
            if response.status_code == 201 and isinstance(body, dict):
                task = asyncio.create_task(emulator._echo(body, json.loads(bytes(response.body))["messageId"]))
                background.add(task)
                task.add_done_callback(background.discard)
            return response

        @app.get("/media/{name}")
        async def media(name: str) -> Response:
            content = emulator.media.get(name)
            if content is None:
                return Response(status_code=404)
            return Response(content, media_type="audio/ogg")

        @app.get("/v3/channels")
        async def list_channels(request: Request) -> Response:
            if not emulator._authorized(request):
                return Response(status_code=401)
            return JSONResponse(emulator.channels)

        @app.get("/v3/webhooks")
        async def get_webhooks(request: Request) -> Response:
            if not emulator._authorized(request):
                return Response(status_code=401)
            return JSONResponse({"webhooksUri": emulator.webhooks_uri, "subscriptions": emulator.subscriptions})

        @app.patch("/v3/webhooks")
        async def patch_webhooks(request: Request) -> Response:
            if not emulator._authorized(request):
                return Response(status_code=401)
            try:
                body = json.loads(await request.body())
            except ValueError:
                return emulator._error(400, "VALIDATION_ERROR", "Request body is not valid JSON")
            uri = body.get("webhooksUri") if isinstance(body, dict) else None
            if not isinstance(uri, str) or len(uri) > 200 or not re.match(r"^https?://[^\s/]+(/\S*)?$", uri):
                return emulator._error(400, "uriNotValid", "webhooksUri is not a valid URI")
            try:
                async with httpx.AsyncClient(timeout=30, follow_redirects=False) as client:
                    test = await client.post(uri, json={"test": True})
                passed = test.status_code == 200
            except httpx.HTTPError:
                passed = False
            if not passed:
                return emulator._error(400, "testPostNotPassed", "The test POST to webhooksUri did not get 200 OK")
            emulator.webhooks_uri = uri
            emulator.subscriptions = dict(body.get("subscriptions") or {})
            return JSONResponse({"ok": True})

        return app

    async def _send(self, body: Any) -> JSONResponse:
        if self._rate_limited():
            return self._error(429, "TOO_MANY_REQUESTS", "Rate limit exceeded, retry after the window")
        with self._lock:
            fault = self.faults[0] if self.faults else None
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.popleft()
            hold = self._holds.popleft() if self._holds else None
        if hold is not None:
            self._held += 1
            try:
                await asyncio.to_thread(hold.wait, 120)
            finally:
                self._held -= 1
        if fault is not None and not fault.store_first:
            return self._error(fault.status, "INTERNAL_ERROR", "Scripted failure")
        invalid = self._validate(body)
        if invalid is not None:
            return invalid
        if self._repeated(body.get("crmMessageId")):
            return self._error(400, "REPEATED_CRM_MESSAGE_ID", "A message with this crmMessageId was already sent")
        created = self._store(body)
        if fault is not None:
            return self._error(fault.status, "INTERNAL_ERROR", "Scripted failure after the message was sent")
        return JSONResponse(created, status_code=201)
