"""Unpaired UTF-16 surrogates in a JSON body: where they are, so the request is refused with 422.

JSON may spell any code unit as `\\uXXXX`, and Python's parser turns a lone `\\ud800` into a str
that cannot be encoded as UTF-8: the database drivers, Redis and every JSON response would fail on
it (a 500, the customer's text in the traceback). A valid pair (an emoji) is decoded into one
character, so any code point left in U+D800–U+DFFF is unpaired.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
VALUE_MESSAGE = "String contains an unpaired UTF-16 surrogate; send valid Unicode text"
KEY_MESSAGE = "Field name contains an unpaired UTF-16 surrogate; send valid Unicode text"
#: A body full of them is described by its first few.
MAX_ERRORS = 10

Loc = tuple[str | int, ...]


def has_surrogate(value: str) -> bool:
    return _SURROGATE.search(value) is not None


def printable(value: str) -> str:
    """The string with its surrogates written as `\\udXXX`, so it can be encoded (e.g. in an error's loc)."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def surrogate_errors(document: Any, *, prefix: Loc = ("body",)) -> list[dict[str, Any]]:
    """FastAPI-style errors (loc, msg, type; never the input) for each string or key holding one.

    Iterative, so a deeply nested body the JSON parser accepted cannot exhaust the stack here."""
    errors: list[dict[str, Any]] = []
    pending: list[tuple[Loc, Any]] = [(prefix, document)]
    while pending and len(errors) < MAX_ERRORS:
        loc, value = pending.pop()
        if isinstance(value, str):
            if has_surrogate(value):
                errors.append(_error(loc, VALUE_MESSAGE))
        elif isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                if has_surrogate(key):
                    errors.append(_error((*loc, printable(key)), KEY_MESSAGE))
                pending.append(((*loc, printable(key)), item))
        elif isinstance(value, list):
            pending.extend(((*loc, index), item) for index, item in reversed(list(enumerate(value))))
    return errors[:MAX_ERRORS]


def _error(loc: Loc, message: str) -> dict[str, Any]:
    return {"type": "string_unpaired_surrogate", "loc": loc, "msg": message}
