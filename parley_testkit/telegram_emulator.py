"""A local Telegram Bot API emulator: a real HTTP server on loopback speaking the Bot API wire format.

It stands in for api.telegram.org (the only part of the Telegram path we may replace): the bot under
test talks to it with aiogram's real HTTP session (`TELEGRAM_API_BASE=<emulator.url>`).

- Methods at `/bot<token>/<method>`, form or JSON parameters, answers `{"ok": true, "result": ...}` or
  `{"ok": false, "error_code": N, "description": ..., "parameters": {"retry_after": N}}`.
- Implemented: getMe, getUpdates (long polling, offset confirmation, 409 while a webhook is set),
  setWebhook / deleteWebhook (updates are then POSTed to the webhook with the secret header and
  re-sent on a non-2xx answer), sendMessage, sendChatAction, editMessageText, answerCallbackQuery,
  sendMessageDraft, getFile and file download at `/file/bot<token>/<path>`.
- Enforced: text 1..4096 characters after entity parsing; parse_mode validity (HTML tags, nesting
  and escaping; MarkdownV2 reserved characters); "message is not modified" on identical edits.
- Injected failures: `fail_next(method, status=429, retry_after=1)` or a 5xx.
- Recorded per chat: every message the bot sent (and every refused call, in `rejected`).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from parley_testkit.servers import free_port, wait_until

MAX_TEXT = 4096
HTML_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
}
MARKDOWN_V2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)\s*>")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);")


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


def parse_html(text: str) -> str:
    """The visible text of a Telegram-HTML string; ApiError 400 where Telegram would refuse it."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            match = _TAG.match(text, i)
            if match is None:
                raise ApiError(400, f"Bad Request: can't parse entities: unsupported start tag at byte offset {i}")
            closing, name = match.group(1) == "/", match.group(2).lower()
            if name not in HTML_TAGS:
                raise ApiError(
                    400, f'Bad Request: can\'t parse entities: unsupported start tag "{name}" at byte offset {i}'
                )
            if closing:
                if not stack or stack[-1] != name:
                    raise ApiError(
                        400,
                        f"Bad Request: can't parse entities: unmatched end tag at byte offset {i}, "
                        f'expected "</{stack[-1] if stack else ""}>", found "</{name}>"',
                    )
                stack.pop()
            else:
                stack.append(name)
            i = match.end()
        elif ch == ">":
            raise ApiError(400, f"Bad Request: can't parse entities: unexpected end tag at byte offset {i}")
        elif ch == "&":
            match = _ENTITY.match(text, i)
            if match is None:
                out.append("&")
                i += 1
            else:
                out.append(html.unescape(match.group(0)))
                i = match.end()
        else:
            out.append(ch)
            i += 1
    if stack:
        raise ApiError(
            400, f"Bad Request: can't parse entities: can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    return "".join(out)


def parse_markdown_v2(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if ch in MARKDOWN_V2_RESERVED and ch not in "*_~`|[]()":
            raise ApiError(
                400,
                f"Bad Request: can't parse entities: character '{ch}' is reserved "
                "and must be escaped with the preceding '\\'",
            )
        if ch not in "*_~`|":
            out.append(ch)
        i += 1
    return "".join(out)


def visible_text(text: str, parse_mode: str | None) -> str:
    if parse_mode is None or parse_mode == "":
        return text
    if parse_mode == "HTML":
        return parse_html(text)
    if parse_mode == "MarkdownV2":
        return parse_markdown_v2(text)
    if parse_mode == "Markdown":
        return text.replace("*", "").replace("_", "").replace("`", "")
    raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode!r}")


@dataclass
class Injection:
    method: str
    status: int
    retry_after: int | None
    times: int
    description: str


@dataclass
class SentMessage:
    message_id: int
    chat_id: int
    text: str
    parse_mode: str | None
    reply_to_message_id: int | None
    reply_markup: dict[str, Any] | None
    at: float
    edits: list[str] = field(default_factory=list)

    @property
    def visible(self) -> str:
        return visible_text(self.text, self.parse_mode)


class TelegramEmulator:
    """Start with `.start()`; `url` is the TELEGRAM_API_BASE for the bot; `token` is its BOT_TOKEN."""

    def __init__(self, token: str = "123456789:TEST-emulator-token_abcdefghijklmnop") -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True, name="telegram-emulator")
        self._started = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._updates_changed: asyncio.Condition | None = None
        # state (guarded by _lock)
        self.updates: list[dict[str, Any]] = []
        self.confirmed_update_id = 0
        self.next_update_id = 1000
        self.next_message_id: dict[int, int] = {}
        self.sent: dict[int, list[SentMessage]] = {}
        self.actions: list[tuple[int, str, float]] = []
        self.drafts: list[dict[str, Any]] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.rejected: list[tuple[str, dict[str, Any], int, str]] = []
        self.calls: list[tuple[str, dict[str, Any], float]] = []
        self.injections: list[Injection] = []
        self.files: dict[str, tuple[str, bytes]] = {}
        self.webhook_url = ""
        self.webhook_secret = ""
        self.webhook_deliveries: list[tuple[int, int]] = []  # (update_id, http status)
        self._webhook_task: asyncio.Task[None] | None = None

    # ---- lifecycle ----

    def start(self) -> TelegramEmulator:
        self._thread.start()
        self._started.wait(15)
        wait_until(lambda: self._started.is_set(), timeout=15, what="telegram emulator")
        return self

    def stop(self) -> None:
        if self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=15)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        self._updates_changed = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.port)
        await site.start()
        self._started.set()
        await self._stopping.wait()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
        await runner.cleanup()

    # ---- what a test does: a customer writes, presses a button, sends a file ----

    def _new_message_id(self, chat_id: int) -> int:
        with self._lock:
            value = self.next_message_id.get(chat_id, 0) + 1
            self.next_message_id[chat_id] = value
            return value

    def _user(self, chat_id: int, first_name: str, language: str | None) -> dict[str, Any]:
        user: dict[str, Any] = {"id": chat_id, "is_bot": False, "first_name": first_name}
        if language:
            user["language_code"] = language
        return user

    def customer_message(
        self, chat_id: int, *, first_name: str = "Customer", language: str | None = "en", **content: Any
    ) -> dict[str, Any]:
        """Queue an update with a private-chat message (content: text=..., sticker=..., voice=...)."""
        message = {
            "message_id": self._new_message_id(chat_id),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": first_name},
            "from": self._user(chat_id, first_name, language),
            **content,
        }
        if "text" in content and str(content["text"]).startswith("/"):
            command = str(content["text"]).split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self.push_update({"message": message})

    def send_text(self, chat_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
        return self.customer_message(chat_id, text=text, **kwargs)

    def send_sticker(self, chat_id: int) -> dict[str, Any]:
        sticker = {
            "file_id": "sticker-file-1",
            "file_unique_id": "sticker-u-1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return self.customer_message(chat_id, sticker=sticker)

    def add_file(self, file_id: str, content: bytes, file_path: str) -> None:
        with self._lock:
            self.files[file_id] = (file_path, content)

    def press_button(self, chat_id: int, message_id: int, data: str) -> dict[str, Any]:
        message = self.message(chat_id, message_id)
        callback = {
            "id": f"cb-{time.time_ns()}",
            "from": self._user(chat_id, "Customer", "en"),
            "chat_instance": f"ci-{chat_id}",
            "data": data,
            "message": {
                "message_id": message.message_id,
                "date": int(message.at),
                "chat": {"id": chat_id, "type": "private", "first_name": "Customer"},
                "from": {"id": self.bot_id, "is_bot": True, "first_name": "Parley"},
                "text": message.visible,
            },
        }
        return self.push_update({"callback_query": callback})

    def push_update(self, body: dict[str, Any], *, update_id: int | None = None) -> dict[str, Any]:
        """Queue a raw update; pass the same update_id again to emulate a repeated delivery."""
        with self._lock:
            if update_id is None:
                update_id = self.next_update_id
                self.next_update_id += 1
            update = {"update_id": update_id, **body}
            self.updates.append(update)
        self._loop.call_soon_threadsafe(lambda: self._loop.create_task(self._updates_arrived()))
        return update

    async def _updates_arrived(self) -> None:
        assert self._updates_changed is not None
        async with self._updates_changed:
            self._updates_changed.notify_all()

    def fail_next(
        self, method: str, *, status: int = 429, retry_after: int | None = 1, times: int = 1, description: str = ""
    ) -> None:
        text = description or (
            f"Too Many Requests: retry after {retry_after or 0}" if status == 429 else "Internal Server Error"
        )
        with self._lock:
            self.injections.append(Injection(method, status, retry_after if status == 429 else None, times, text))

    # ---- what a test reads ----

    def messages(self, chat_id: int) -> list[SentMessage]:
        with self._lock:
            return list(self.sent.get(chat_id, []))

    def texts(self, chat_id: int) -> list[str]:
        return [m.visible for m in self.messages(chat_id)]

    def message(self, chat_id: int, message_id: int) -> SentMessage:
        found = [m for m in self.messages(chat_id) if m.message_id == message_id]
        assert found, f"no bot message {message_id} in chat {chat_id}"
        return found[0]

    def chat_actions(self, chat_id: int) -> list[str]:
        with self._lock:
            return [action for chat, action, _ in self.actions if chat == chat_id]

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [params for name, params, _ in self.calls if name == method]

    def callback_answer(self, callback_query_id: str) -> dict[str, Any] | None:
        with self._lock:
            return next((a for a in self.callback_answers if a.get("callback_query_id") == callback_query_id), None)

    def pending_updates(self) -> int:
        with self._lock:
            return len([u for u in self.updates if u["update_id"] > self.confirmed_update_id])

    # ---- the HTTP side ----

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.json()
            return dict(body) if isinstance(body, dict) else {}
        if request.method == "GET":
            return dict(request.query)
        form = await request.post()
        params: dict[str, Any] = dict(request.query)
        for key, value in form.items():
            params[key] = value if isinstance(value, str) else getattr(value, "file", None)
        return params

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(error: ApiError) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": error.code, "description": error.description}
        if error.retry_after is not None:
            body["parameters"] = {"retry_after": error.retry_after}
        return web.json_response(body, status=error.code)

    async def _handle_method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._error(ApiError(401, "Unauthorized"))
        params = await self._params(request)
        with self._lock:
            self.calls.append((method, params, time.time()))
            injection = next((i for i in self.injections if i.method == method and i.times > 0), None)
            if injection is not None:
                injection.times -= 1
        try:
            if injection is not None:
                raise ApiError(injection.status, injection.description, injection.retry_after)
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params)
        except ApiError as error:
            with self._lock:
                self.rejected.append((method, params, error.code, error.description))
            return self._error(error)
        return self._ok(result)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        with self._lock:
            found = [content for file_path, content in self.files.values() if file_path == path]
        if not found:
            return web.Response(status=404)
        return web.Response(body=found[0], content_type="application/octet-stream")

    # ---- methods ----

    def _me(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Parley",
            "username": "parley_test_bot",
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._me()

    async def _m_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset", 0) or 0)
        limit = min(int(params.get("limit", 100) or 100), 100)
        timeout = float(params.get("timeout", 0) or 0)
        assert self._updates_changed is not None
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if offset:
                    self.confirmed_update_id = max(self.confirmed_update_id, offset - 1)
                    self.updates = [u for u in self.updates if u["update_id"] >= offset]
                ready = [u for u in self.updates if u["update_id"] > self.confirmed_update_id][:limit]
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0:
                return ready
            async with self._updates_changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._updates_changed.wait(), timeout=min(remaining, 1.0))

    async def _m_setWebhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url", ""))
        secret = str(params.get("secret_token", "") or "")
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        with self._lock:
            self.webhook_url = url
            self.webhook_secret = secret
            if str(params.get("drop_pending_updates", "")).lower() == "true":
                self.updates.clear()
        if url and (self._webhook_task is None or self._webhook_task.done()):
            self._webhook_task = asyncio.create_task(self._push_webhook())
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self.webhook_url = ""
            if str(params.get("drop_pending_updates", "")).lower() == "true":
                self.updates.clear()
        return True

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": self.pending_updates(),
        }

    async def _push_webhook(self) -> None:
        """While a webhook is set, deliver queued updates to it in order; a non-2xx answer is retried
        (bounded, like Telegram's "reasonable number of times")."""
        async with aiohttp.ClientSession() as session:
            while self.webhook_url:
                with self._lock:
                    ready = [u for u in self.updates if u["update_id"] > self.confirmed_update_id]
                if not ready:
                    await asyncio.sleep(0.05)
                    continue
                update = ready[0]
                status = 0
                for attempt in range(5):
                    headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret} if self.webhook_secret else {}
                    try:
                        async with session.post(
                            self.webhook_url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=60)
                        ) as response:
                            status = response.status
                    except (aiohttp.ClientError, TimeoutError):
                        status = 0
                    with self._lock:
                        self.webhook_deliveries.append((update["update_id"], status))
                    if 200 <= status < 300:
                        break
                    await asyncio.sleep(0.5 * (attempt + 1))
                with self._lock:
                    self.confirmed_update_id = max(self.confirmed_update_id, update["update_id"])

    def _chat_id(self, params: dict[str, Any]) -> int:
        try:
            return int(params["chat_id"])
        except (KeyError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None

    @staticmethod
    def _json_param(params: dict[str, Any], name: str) -> Any:
        value = params.get(name)
        if value is None or isinstance(value, dict | list):
            return value
        return json.loads(value)

    def _check_text(self, text: str, parse_mode: str | None, *, allow_empty: bool = False) -> str:
        visible = visible_text(text, parse_mode)
        if not visible.strip() and not allow_empty:
            raise ApiError(400, "Bad Request: message text is empty")
        if len(visible) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        return visible

    def _message_json(self, message: SentMessage, text: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(message.at),
            "chat": {"id": message.chat_id, "type": "private", "first_name": "Customer"},
            "from": {"id": self.bot_id, "is_bot": True, "first_name": "Parley", "username": "parley_test_bot"},
            "text": text,
        }
        if message.reply_markup:
            body["reply_markup"] = message.reply_markup
        return body

    async def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        text = str(params.get("text", ""))
        parse_mode = params.get("parse_mode") or None
        visible = self._check_text(text, parse_mode)
        reply_to = params.get("reply_to_message_id")
        reply_parameters = self._json_param(params, "reply_parameters")
        if reply_parameters:
            reply_to = reply_parameters.get("message_id")
        markup = self._json_param(params, "reply_markup")
        message = SentMessage(
            message_id=self._new_message_id(chat_id),
            chat_id=chat_id,
            text=text,
            parse_mode=parse_mode,
            reply_to_message_id=int(reply_to) if reply_to else None,
            reply_markup=markup,
            at=time.time(),
        )
        with self._lock:
            self.sent.setdefault(chat_id, []).append(message)
        return self._message_json(message, visible)

    async def _m_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        message_id = int(params.get("message_id", 0))
        text = str(params.get("text", ""))
        parse_mode = params.get("parse_mode") or None
        visible = self._check_text(text, parse_mode)
        with self._lock:
            found = [m for m in self.sent.get(chat_id, []) if m.message_id == message_id]
            if not found:
                raise ApiError(400, "Bad Request: message to edit not found")
            message = found[0]
            if message.text == text and message.parse_mode == parse_mode:
                raise ApiError(400, "Bad Request: message is not modified")
            message.edits.append(message.text)
            message.text, message.parse_mode = text, parse_mode
            if "reply_markup" in params:
                message.reply_markup = self._json_param(params, "reply_markup")
        return self._message_json(message, visible)

    async def _m_sendChatAction(self, params: dict[str, Any]) -> bool:
        chat_id = self._chat_id(params)
        action = str(params.get("action", ""))
        if action not in {"typing", "upload_photo", "record_voice", "upload_voice", "upload_document", "find_location"}:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        with self._lock:
            self.actions.append((chat_id, action, time.time()))
        return True

    async def _m_sendMessageDraft(self, params: dict[str, Any]) -> bool:
        chat_id = self._chat_id(params)
        draft_id = int(params.get("draft_id", 0) or 0)
        if draft_id == 0:
            raise ApiError(400, "Bad Request: draft_id must be non-zero")
        text = str(params.get("text", ""))
        self._check_text(text, params.get("parse_mode") or None, allow_empty=True)
        with self._lock:
            self.drafts.append({"chat_id": chat_id, "draft_id": draft_id, "text": text})
        return True

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        if not params.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        with self._lock:
            self.callback_answers.append(dict(params))
        return True

    async def _m_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params.get("file_id", ""))
        with self._lock:
            found = self.files.get(file_id)
        if found is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        path, content = found
        return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": len(content), "file_path": path}

    async def _m_setMyCommands(self, params: dict[str, Any]) -> bool:
        return True

    async def _m_close(self, params: dict[str, Any]) -> bool:
        return True
