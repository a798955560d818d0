"""parley_contract.logging: JSON lines with a request id; message text and phone numbers masked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from parley_contract.logging import (
    REDACTED,
    bound_request_id,
    exception_types,
    make_handler,
    redact_phones,
    request_id_headers,
)


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO, list[logging.Handler]]]:
    logger = logging.getLogger("tests.parley_logging")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    stream = io.StringIO()
    handlers: list[logging.Handler] = []
    yield logger, stream, handlers
    for handler in handlers:
        logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize(
    "phone", ["+971 50 123 4567", "+971501234567", "050-123-4567", "(050) 123 4567", "79161234567", "+1 (555) 123-4567"]
)
def test_phone_numbers_are_masked(phone: str) -> None:
    assert redact_phones(f"call {phone} now") == f"call {REDACTED} now"


@pytest.mark.parametrize(
    "kept",
    [
        "task 3f2a1234567b4c9d8e7f6a5b4c3d2e1f",  # ids that merely contain digit runs
        "took 812 ms, 3 parts",
        "listening on 192.168.100.200:8000",
        "request a1b2c3d4-1234-5678-9abc-def012345678",
    ],
)
def test_ids_timings_and_addresses_are_kept(kept: str) -> None:
    assert redact_phones(kept) == kept


def test_text_fields_and_phones_are_masked_and_the_request_id_is_added(
    capture: tuple[logging.Logger, io.StringIO, list[logging.Handler]],
) -> None:
    logger, stream, handlers = capture
    handlers.append(make_handler(json_lines=True, log_content=False, stream=stream))
    logger.addHandler(handlers[0])
    with bound_request_id("req-123"):
        logger.info(
            "message from %s for task %s", "+971 50 123 4567", "t1", extra={"text": "my card is 4242", "channel": "web"}
        )
        try:
            raise ValueError("customer wrote: call me on +971 50 765 4321")
        except ValueError:
            logger.exception("handling failed")
    logger.info("outside")
    first, failure, outside = lines(stream)
    assert first["message"] == f"message from {REDACTED} for task t1"
    assert (first["text"], first["channel"], first["request_id"]) == (REDACTED, "web", "req-123")
    assert (first["level"], first["logger"]) == ("INFO", "tests.parley_logging")
    assert failure["request_id"] == "req-123"
    assert "ValueError" in failure["exc_info"] and "765 4321" not in failure["exc_info"]
    assert outside["request_id"] is None
    assert "4242" not in stream.getvalue() and "123 4567" not in stream.getvalue()


def test_log_content_true_keeps_the_text(capture: tuple[logging.Logger, io.StringIO, list[logging.Handler]]) -> None:
    logger, stream, handlers = capture
    handlers.append(make_handler(json_lines=True, log_content=True, stream=stream))
    logger.addHandler(handlers[0])
    logger.info("from %s", "+971 50 123 4567", extra={"text": "Do you deliver to Ajman?"})
    (line,) = lines(stream)
    assert line["message"] == "from +971 50 123 4567"
    assert line["text"] == "Do you deliver to Ajman?"


def test_plain_text_lines_carry_the_request_id_from_the_named_source(
    capture: tuple[logging.Logger, io.StringIO, list[logging.Handler]],
) -> None:
    logger, stream, handlers = capture
    handlers.append(
        make_handler(json_lines=False, log_content=False, request_id_source=lambda: "from-asgi", stream=stream)
    )
    logger.addHandler(handlers[0])
    logger.warning("reply for +971 50 123 4567 delayed")
    assert stream.getvalue().rstrip().endswith(f"[from-asgi]: reply for {REDACTED} delayed")


def test_outgoing_calls_carry_the_bound_request_id() -> None:
    assert request_id_headers() == {}
    with bound_request_id("abc"):
        assert request_id_headers() == {"X-Request-ID": "abc"}
    assert request_id_headers() == {}


#: Built at run time, so the source lines a traceback quotes do not contain it.
MARKER = "zq" + "marker".upper()


def _fail_validating(text: str) -> None:
    raise ValueError(f"1 validation error: input_value={text!r}")


def test_a_traceback_keeps_its_frames_and_types_but_not_the_messages_that_quote_input(
    capture: tuple[logging.Logger, io.StringIO, list[logging.Handler]],
) -> None:
    """Issue #15 (finding 7): a validation or database error's message quotes the customer's text."""
    logger, stream, handlers = capture
    handlers.append(make_handler(json_lines=True, log_content=False, stream=stream))
    logger.addHandler(handlers[0])
    try:
        try:
            _fail_validating(f"my secret order word is {MARKER}")
        except ValueError as exc:
            raise RuntimeError(f"while storing {MARKER!r}") from exc
    except RuntimeError:
        logger.exception("request failed")
    (line,) = lines(stream)
    traceback_text = line["exc_info"]
    assert MARKER not in stream.getvalue()
    assert f"ValueError: {REDACTED}" in traceback_text and f"RuntimeError: {REDACTED}" in traceback_text
    assert "in _fail_validating" in traceback_text and "direct cause of the following exception" in traceback_text


def test_log_content_true_keeps_the_exception_messages(
    capture: tuple[logging.Logger, io.StringIO, list[logging.Handler]],
) -> None:
    logger, stream, handlers = capture
    handlers.append(make_handler(json_lines=True, log_content=True, stream=stream))
    logger.addHandler(handlers[0])
    try:
        _fail_validating(MARKER)
    except ValueError:
        logger.exception("request failed")
    (line,) = lines(stream)
    assert MARKER in line["exc_info"]


def test_exception_types_name_the_chain_without_the_messages() -> None:
    try:
        try:
            raise ConnectionRefusedError("connect to 10.0.0.5 refused while inserting 'zqmarker'")
        except ConnectionRefusedError as exc:
            raise RuntimeError("(sqlalchemy) [parameters: ('zqmarker',)]") from exc
    except RuntimeError as exc:
        assert exception_types(exc) == "RuntimeError <- ConnectionRefusedError"
