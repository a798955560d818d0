"""schemathesis hooks (SCHEMATHESIS_HOOKS): every other JSON body carries a lone UTF-16 surrogate.

schemathesis draws text as UTF-8, which has no lone surrogates; JSON can still spell one
(`"\\ud800"`), and such a body once crashed the gateway (issue #15, finding 7). Every second JSON
body sent gets `\\ud800` appended to all its strings or to one of them, written with `json.dumps`'s
ASCII escapes, as an attacker's client would send it.
The run's checks then hold the answer to the document: 422 (400 under /v1), never a 5xx.
Each poisoned operation is noted in the file SURROGATE_LOG names, so the test knows they were sent.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
from collections.abc import Iterator
from typing import Any

import schemathesis
from schemathesis.transport.serialization import serialize_json

LONE_SURROGATE = "\ud800"
_cases = itertools.count()
_choices: dict[str, int] = {}

Path = tuple[str | int, ...]


def string_paths(value: Any, path: Path = ()) -> Iterator[Path]:
    """Where the strings of a JSON document are."""
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from string_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from string_paths(item, (*path, index))


def poisoned(document: Any, paths: list[Path]) -> Any:
    """The document with `\\ud800` appended to the strings at `paths`."""
    changed = copy.deepcopy(document)
    for path in paths:
        if not path:
            return changed + LONE_SURROGATE
        parent = changed
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] += LONE_SURROGATE
    return changed


@schemathesis.serializer("application/json")
def json_with_surrogates(ctx: schemathesis.SerializationContext, value: Any) -> bytes | None:
    """The JSON body as schemathesis sends it (`json.dumps`, ASCII escapes); every second one poisoned.

    At serialisation, not in a `map_case` hook: schemathesis re-validates a changed case against
    the schema, and its validator cannot encode a lone surrogate either."""
    serialized = serialize_json(value)
    if "json" not in serialized:
        data: bytes | None = serialized.get("data")
        return data
    document = serialized["json"]
    paths = list(string_paths(document))
    # A case is serialised more than once (to send it, to record it as curl): decide once per case.
    number = _choices.setdefault(ctx.case.id, next(_cases))
    if paths and number % 2:
        # Every string, or one of them in turn: the first reaches the stores or the error's echo in most
        # cases, the second tells which field the gateway refuses.
        document = poisoned(document, paths if number % 4 == 1 else [paths[(number // 4) % len(paths)]])
        with open(os.environ["SURROGATE_LOG"], "a", encoding="utf-8") as log:
            log.write(f"{ctx.case.operation.method.upper()} {ctx.case.operation.path}\n")
    return json.dumps(document, ensure_ascii=True, allow_nan=False).encode("ascii")
