"""Logging every service sets up in its entry point: JSON lines, a request id, redacted content.

`configure_logging(json_lines=..., log_content=...)` installs one root handler. Its filters add
`request_id` to every record (from this module's context variable, or a source the service
names, e.g. the gateway's correlation id) and, unless `log_content` is on, mask what customers
wrote: `text`/`answer`-like fields passed in `extra=`, phone-number-like digit runs anywhere
in the message and the other extra fields, and the exceptions' messages in tracebacks (a
validation or database error quotes its input); the frames and exception types are kept.
"""

from __future__ import annotations

import logging
import re
import sys
import textwrap
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO

from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
REDACTED = "[redacted]"
#: `extra=` fields that hold what a customer wrote or is told, or who they are.
CONTENT_FIELDS = frozenset({"text", "answer", "question", "content", "body", "phone", "chat_id", "caption"})
#: 7+ digits, optionally led by + and split by spaces, dashes or brackets; not inside a longer token.
PHONE_PATTERN = re.compile(r"(?<![\w-])\+?\(?\d(?:[ \-()]{0,2}\d){6,}(?![\w-])")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"

request_id_var: ContextVar[str | None] = ContextVar("parley_request_id", default=None)
_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


def current_request_id() -> str | None:
    return request_id_var.get()


@contextmanager
def bound_request_id(request_id: str | None) -> Iterator[None]:
    """Log with this request id inside the block (a worker's job, an adapter's delivery)."""
    token = request_id_var.set(request_id)
    try:
        yield
    finally:
        request_id_var.reset(token)


def new_request_id() -> str:
    """A request id for work that starts outside the gateway (a message an adapter received)."""
    return uuid.uuid4().hex


def request_id_headers() -> dict[str, str]:
    """`X-Request-ID` for an outgoing call made on behalf of the current request, if there is one."""
    request_id = request_id_var.get()
    return {REQUEST_ID_HEADER: request_id} if request_id else {}


def redact_phones(value: str) -> str:
    return PHONE_PATTERN.sub(REDACTED, value)


def exception_types(exc: BaseException) -> str:
    """`OperationalError <- ConnectionRefusedError`: what failed, without the messages (they may quote input)."""
    return " <- ".join(type(e).__name__ for e in _chain(exc))


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and the ones it was raised from or while handling, newest first (as Python links them)."""
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in found):
        found.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return found


def redacted_traceback(exc: BaseException) -> str:
    """The traceback as Python prints it, each exception's message replaced by REDACTED."""
    blocks: list[str] = []
    for exc_ in reversed(_chain(exc)):
        if blocks:
            blocks.append(
                "\nThe above exception was the direct cause of the following exception:\n\n"
                if exc_.__cause__ is not None
                else "\nDuring handling of the above exception, another exception occurred:\n\n"
            )
        frames = "".join(traceback.format_tb(exc_.__traceback__))
        blocks.append(f"Traceback (most recent call last):\n{frames}" if frames else "")
        blocks.append(f"{_type_name(exc_)}: {REDACTED}\n" if _has_message(exc_) else f"{_type_name(exc_)}\n")
        if isinstance(exc_, BaseExceptionGroup):
            for number, member in enumerate(exc_.exceptions, start=1):
                blocks.append(textwrap.indent(f"+---- {number} ----\n{redacted_traceback(member)}\n", "  | "))
    return "".join(blocks).rstrip("\n")


def _type_name(exc: BaseException) -> str:
    module, name = type(exc).__module__, type(exc).__qualname__
    return name if module in ("builtins", "__main__") else f"{module}.{name}"


def _has_message(exc: BaseException) -> bool:
    try:
        return bool(str(exc))
    except Exception:
        return True


class RequestIdFilter(logging.Filter):
    """Sets `record.request_id` (None outside a request) from `source`, else this module's context."""

    def __init__(self, source: Callable[[], str | None] | None = None) -> None:
        super().__init__()
        self._source = source

    def filter(self, record: logging.LogRecord) -> bool:
        found = self._source() if self._source is not None else None
        record.request_id = found or request_id_var.get() or getattr(record, "request_id", None)
        return True


class RedactionFilter(logging.Filter):
    """Masks content fields and phone-number-like digit runs; it never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_phones(record.getMessage())
        record.args = None
        for name, value in list(record.__dict__.items()):
            if name in _STANDARD_ATTRS:
                continue
            if name in CONTENT_FIELDS and value is not None:
                setattr(record, name, REDACTED)
            elif isinstance(value, str):
                setattr(record, name, redact_phones(value))
        if record.exc_info and record.exc_info[1] is not None:
            # Exception messages may quote the customer; format once here and drop the live traceback.
            record.exc_text = redact_phones(redacted_traceback(record.exc_info[1]))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact_phones(record.stack_info)
        return True


def make_handler(
    *,
    json_lines: bool,
    log_content: bool,
    request_id_source: Callable[[], str | None] | None = None,
    stream: IO[str] | None = None,
) -> logging.Handler:
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    formatter: logging.Formatter
    if json_lines:
        formatter = JsonFormatter(
            JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}
        )
    else:
        formatter = logging.Formatter(PLAIN_FORMAT)
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter(request_id_source))
    if not log_content:
        handler.addFilter(RedactionFilter())
    return handler


def configure_logging(
    *,
    json_lines: bool,
    log_content: bool,
    level: int | str = logging.INFO,
    request_id_source: Callable[[], str | None] | None = None,
    stream: IO[str] | None = None,
) -> None:
    """Replace the root logger's handlers with one Parley handler (call once, in `__main__`)."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(
        make_handler(json_lines=json_lines, log_content=log_content, request_id_source=request_id_source, stream=stream)
    )
    root.setLevel(level)
    # uvicorn's loggers carry handlers of their own; send their records through ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per internal call is noise
