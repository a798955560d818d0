"""The prompt template syntax the gateway accepts and the worker fills in.

A template may hold bare `{name}` placeholders from `PLACEHOLDERS` and `{{` / `}}` for literal braces;
nothing else. It is never passed to `str.format`: a format spec (`{business_name:>200000000}`), a
conversion, an attribute or an index would make Python build huge strings or walk object attributes
(`{business_name.__class__.__mro__}`). `render` substitutes with a regex instead, and leaves any other
brace expression as literal text, so even a template stored before this check cannot evaluate anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: The placeholders the worker fills in (ai_worker/prompt.py): the tenant's business name, and
#: " (language code xx)" when the customer's language is known.
PLACEHOLDERS = frozenset({"business_name", "language_hint"})

# Left to right, like str.format: a doubled brace first, then a `{...}` expression, then a lone brace.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
#: How much of a refused expression an error message repeats.
_SHOWN_CHARS = 40


class TemplateError(ValueError):
    pass


def _shown(expression: str) -> str:
    return expression if len(expression) <= _SHOWN_CHARS else expression[: _SHOWN_CHARS - 1] + "…"


def _allowed_list() -> str:
    return ", ".join("{" + name + "}" for name in sorted(PLACEHOLDERS))


def placeholders_in(text: str) -> set[str]:
    """The placeholders `text` uses; raises TemplateError for any other brace expression."""
    found: set[str] = set()
    for match in _TOKEN.finditer(text):
        token, name = match.group(0), match.group(1)
        if token in ("{{", "}}"):
            continue
        if name is None:
            raise TemplateError(f"unmatched '{token}'; write a literal brace as '{{{{' or '}}}}'")
        if name not in PLACEHOLDERS:
            raise TemplateError(
                f"unsupported placeholder {_shown(token)!r}: only the bare placeholders {_allowed_list()} are "
                "allowed (no format spec, conversion, attribute or index); write a literal brace as '{{' or '}}'"
            )
        found.add(name)
    return found


def render(text: str, values: Mapping[str, str]) -> str:
    """`text` with its allowed placeholders replaced by `values` and doubled braces undoubled.

    Never raises and evaluates nothing: an expression that is not an allowed placeholder with a value
    (or a lone brace) stays as it is written.
    """

    def substitute(match: re.Match[str]) -> str:
        token, name = match.group(0), match.group(1)
        if token in ("{{", "}}"):
            return token[0]
        if name in PLACEHOLDERS and name in values:
            return values[name]
        return token

    return _TOKEN.sub(substitute, text)


def plain(text: str) -> str:
    """A template that `placeholders_in` accepts and that renders exactly as `text` does.

    For templates stored before they were checked: every brace of an expression that is not an allowed
    placeholder is doubled, which is how `render` shows it anyway (literally).
    """

    def escape(match: re.Match[str]) -> str:
        token, name = match.group(0), match.group(1)
        if token in ("{{", "}}") or name in PLACEHOLDERS:
            return token
        return token.replace("{", "{{").replace("}", "}}")

    return _TOKEN.sub(escape, text)
